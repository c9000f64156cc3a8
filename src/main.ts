/** Starts the DCM: configuration, database, the composed service, HTTP; stops it cleanly on SIGTERM. */
import type { Server } from 'node:http';
import https from 'node:https';
import { createDcm, createDcmGrpcServer, VERSION } from './composition-root.js';
import { ConfigError, loadConfig } from './config.js';
import { connectDatabase } from './db/mongo.js';
import { createLogger } from './logger.js';
import { createSecretCipher, SecretCipherError } from './security/secret-cipher.js';
import { AuthConfigError, loadAuth, loadMetricsToken } from './auth/setup.js';
import {
  grpcServerCredentials,
  httpsContextOptions,
  reloadHttpsServer,
  TlsConfigError,
  TlsReloader,
} from './security/tls.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.DCM_LOG_LEVEL, pretty: config.DCM_LOG_PRETTY });
  if (!config.MONGO_URL) {
    logger.fatal('MONGO_URL is not set: point it at MongoDB (npm start sets up an embedded one for development)');
    process.exit(2);
  }

  let cipher;
  try {
    cipher = createSecretCipher(config);
  } catch (error) {
    if (error instanceof SecretCipherError) {
      logger.fatal(error.message);
      process.exit(2);
    }
    throw error;
  }
  if (!cipher.encrypts) logger.warn('development mode without an encryption key: secrets are stored in clear');

  // Outside development mode the API never runs without authentication.
  let auth;
  let metricsToken;
  try {
    auth = loadAuth(config);
    metricsToken = loadMetricsToken(config);
  } catch (error) {
    if (error instanceof AuthConfigError) {
      logger.fatal(error.message);
      process.exit(2);
    }
    throw error;
  }
  if (auth.mode === 'development')
    logger.warn(
      'development mode without authentication: every caller is an admin (set DCM_AUTH_TOKENS_FILE or DCM_OIDC_ISSUER)',
    );

  // TLS on both APIs when a certificate and key are given (the files were checked with the configuration).
  let tls: TlsReloader | undefined;
  if (config.DCM_TLS_CERT_FILE && config.DCM_TLS_KEY_FILE) {
    try {
      tls = new TlsReloader(
        {
          certFile: config.DCM_TLS_CERT_FILE,
          keyFile: config.DCM_TLS_KEY_FILE,
          clientCaFile: config.DCM_GRPC_CLIENT_CA_FILE,
        },
        { intervalMs: config.DCM_TLS_RELOAD_INTERVAL_MS, logger },
      );
    } catch (error) {
      if (error instanceof TlsConfigError) {
        logger.fatal(error.message);
        process.exit(2);
      }
      throw error;
    }
    const m = tls.current();
    logger.info(
      {
        serial: m.serial,
        fingerprint256: m.fingerprint256,
        notAfter: m.notAfter,
        grpcClientCertificates: Boolean(m.clientCa),
      },
      'TLS on the REST and gRPC APIs',
    );
  } else {
    logger.warn('TLS is off: REST and gRPC are served in plaintext (set DCM_TLS_CERT_FILE and DCM_TLS_KEY_FILE)');
  }

  const database = await connectDatabase(config.MONGO_URL, config.DCM_DATABASE, {
    waitMs: config.DCM_DATABASE_WAIT_MS,
    onRetry: (error, attempt) =>
      logger.warn({ attempt, reason: error.message }, 'MongoDB not reachable yet; trying again'),
  });
  let dcm;
  try {
    dcm = await createDcm({
      db: database.db,
      logger,
      config,
      cipher,
      bodyLimit: config.DCM_BODY_LIMIT,
      ready: database.ping,
      auth,
      metricsToken,
    });
  } catch (error) {
    // e.g. an operator-supplied CA (DCM_CA_*) that cannot serve
    if (error instanceof ConfigError) {
      logger.fatal(error.message);
      await database.close();
      process.exit(2);
    }
    throw error;
  }
  // After a key rotation (a new key first in DCM_ENCRYPTION_KEYS), secrets are sealed again under it.
  const resealed = await dcm.services.resealSecrets();
  if (resealed > 0)
    logger.info({ resealed, key: cipher.currentKeyId }, 'sealed stored secrets again under the current encryption key');
  // Background work (src/services.ts registers it): interrupted operations taken over (at once, then on an
  // interval), tenant certificates renewed, clusters probed, drift watched (unless DCM_DRIFT_ENABLED=false).
  await dcm.services.jobs.start();

  const server: Server | https.Server = await new Promise((resolve, reject) => {
    if (!tls) {
      const s = dcm.app.listen(config.DCM_HTTP_PORT, config.DCM_HOST, () => resolve(s));
      return;
    }
    const s = https.createServer(httpsContextOptions(tls.current()), dcm.app);
    reloadHttpsServer(s, tls);
    s.once('error', reject);
    s.listen(config.DCM_HTTP_PORT, config.DCM_HOST, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.DCM_HTTP_PORT;
  const scheme = tls ? 'https' : 'http';
  logger.info(
    { version: VERSION, port, database: config.DCM_DATABASE, tls: Boolean(tls) },
    `DCM listening on ${scheme}://${config.DCM_HOST}:${port} (API under /v2, docs at /docs)`,
  );

  const grpcServer = createDcmGrpcServer(dcm, {
    logger,
    ready: database.ping,
    watchStreamsPerCaller: config.DCM_WATCH_STREAMS_PER_CALLER,
  });
  const grpcPort = await grpcServer.listen(
    config.DCM_HOST,
    config.DCM_GRPC_PORT,
    tls ? grpcServerCredentials(tls) : undefined,
  );
  if (tls) {
    // New certificate files (e.g. a renewed Secret) serve new connections: checked on an interval and on SIGHUP.
    tls.start();
    process.on('SIGHUP', () => tls.reload('SIGHUP'));
  }
  logger.info(
    { port: grpcPort },
    `DCM gRPC API (dcm.v1.LogicalCloudService, health, reflection) listening on ${config.DCM_HOST}:${grpcPort}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    tls?.stop();
    const deadline = setTimeout(() => {
      logger.warn('graceful shutdown timed out');
      process.exit(1);
    }, config.DCM_SHUTDOWN_GRACE_MS);
    deadline.unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.all([closed, grpcServer.shutdown(Math.floor(config.DCM_SHUTDOWN_GRACE_MS * 0.8))]);
    await dcm.services.jobs.stop();
    await dcm.services.lifecycle.idle();
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('DCM failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
