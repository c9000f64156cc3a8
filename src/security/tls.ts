/**
 * TLS for the REST and gRPC APIs: the server certificate and key (and for gRPC, optionally,
 * the CA that client certificates must be signed by) come from PEM files, which are read
 * again on an interval and on SIGHUP. A new, consistent set (the key matches the
 * certificate, everything parses) replaces the served one for new connections; a broken or
 * half-written set is reported and the previous one stays.
 *
 * REST (node:https) takes a new set through `server.setSecureContext`; gRPC through
 * grpc-js's certificate-provider credentials (`experimental.createCertificateProviderServerCredentials`),
 * fed by the same files through the `CertificateProvider` interface.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type https from 'node:https';
import tls from 'node:tls';
import grpc from '@grpc/grpc-js';
import type { experimental } from '@grpc/grpc-js';
import type { Logger } from '../logger.js';

export class TlsConfigError extends Error {}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** For gRPC: client certificates must be signed by one of the certificates in this file. */
  clientCaFile?: string;
}

export interface TlsMaterial {
  /** The certificate file's PEM: the server certificate first, then its chain. */
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
  /** Of the server certificate (the first in the file). */
  serial: string;
  fingerprint256: string;
  notAfter: string;
  /** Digest of the three files' contents: a change of any of them is a new set. */
  digest: string;
}

/** The minimum protocol both APIs accept. */
const MIN_VERSION: tls.SecureVersion = 'TLSv1.2';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function readFile(variable: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new TlsConfigError(
      `${variable} ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function certificatesOf(variable: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsConfigError(`${variable} ${file} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsConfigError(
        `${variable} ${file}: certificate ${i + 1} does not parse (${(error as Error).message})`,
      );
    }
  });
}

/** Reads and checks a set of TLS files; a TlsConfigError names the variable, the file and what is wrong. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const cert = readFile('DCM_TLS_CERT_FILE', files.certFile);
  const key = readFile('DCM_TLS_KEY_FILE', files.keyFile);
  const clientCa =
    files.clientCaFile === undefined ? undefined : readFile('DCM_GRPC_CLIENT_CA_FILE', files.clientCaFile);
  const [leaf] = certificatesOf('DCM_TLS_CERT_FILE', files.certFile, cert);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new TlsConfigError(
      `DCM_TLS_KEY_FILE ${files.keyFile}: not an unencrypted PEM private key (${(error as Error).message})`,
    );
  }
  if (!leaf!.checkPrivateKey(privateKey)) {
    throw new TlsConfigError(
      `DCM_TLS_KEY_FILE ${files.keyFile} is not the key of the certificate in DCM_TLS_CERT_FILE ${files.certFile}`,
    );
  }
  if (clientCa !== undefined) {
    const cas = certificatesOf('DCM_GRPC_CLIENT_CA_FILE', files.clientCaFile!, clientCa);
    const notCa = cas.findIndex((c) => !c.ca);
    if (notCa >= 0)
      throw new TlsConfigError(
        `DCM_GRPC_CLIENT_CA_FILE ${files.clientCaFile}: certificate ${notCa + 1} is not a CA certificate`,
      );
  }
  try {
    tls.createSecureContext({ cert, key, ca: clientCa, minVersion: MIN_VERSION });
  } catch (error) {
    throw new TlsConfigError(
      `DCM_TLS_CERT_FILE ${files.certFile}: TLS cannot serve it with DCM_TLS_KEY_FILE ${files.keyFile} (${(error as Error).message})`,
    );
  }
  const digest = createHash('sha256')
    .update(cert)
    .update('\0')
    .update(key)
    .update('\0')
    .update(clientCa ?? '')
    .digest('hex');
  return {
    cert,
    key,
    clientCa,
    serial: leaf!.serialNumber,
    fingerprint256: leaf!.fingerprint256,
    notAfter: leaf!.validTo,
    digest,
  };
}

/** Problems of a TLS configuration, for start-up validation: an empty list when it serves. */
export function tlsConfigProblems(files: TlsFiles): string[] {
  try {
    readTlsMaterial(files);
    return [];
  } catch (error) {
    if (error instanceof TlsConfigError) return [error.message];
    throw error;
  }
}

/** What node:https takes (REST does not ask for client certificates). */
export const httpsContextOptions = (m: TlsMaterial): tls.SecureContextOptions => ({
  cert: m.cert,
  key: m.key,
  minVersion: MIN_VERSION,
});

type Listener = (material: TlsMaterial) => void;

/**
 * The served TLS files: read once at construction (throws TlsConfigError), then again every
 * `intervalMs` and on `reload()`; listeners hear about every new consistent set.
 */
export class TlsReloader {
  private material: TlsMaterial;
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly files: TlsFiles,
    private readonly options: { intervalMs: number; logger: Logger },
  ) {
    this.material = readTlsMaterial(files);
  }

  current(): TlsMaterial {
    return this.material;
  }

  /** Reads the files again; true when they hold a new set (now served to new connections). */
  reload(reason: string): boolean {
    let next: TlsMaterial;
    try {
      next = readTlsMaterial(this.files);
    } catch (error) {
      if (!(error instanceof TlsConfigError)) throw error;
      // e.g. the files are being replaced one after the other: the next round sees both
      this.options.logger.warn(
        { reason: error.message, trigger: reason },
        'TLS files cannot be used; still serving the previous certificate',
      );
      return false;
    }
    if (next.digest === this.material.digest) return false;
    this.material = next;
    this.options.logger.info(
      { trigger: reason, serial: next.serial, fingerprint256: next.fingerprint256, notAfter: next.notAfter },
      'TLS certificate reloaded',
    );
    for (const listener of this.listeners) listener(next);
    return true;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.reload('interval'), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Serves every new set of the reloader to new HTTPS connections. */
export function reloadHttpsServer(server: https.Server, reloader: TlsReloader): () => void {
  return reloader.onChange((m) => server.setSecureContext(httpsContextOptions(m)));
}

/**
 * The reloader as a grpc-js CertificateProvider: the server identity (certificate and key)
 * and, for mTLS, the client CA. Updates are delivered asynchronously, as grpc-js expects
 * (it registers its own watcher only after adding these listeners).
 */
class ReloaderCertificateProvider implements experimental.CertificateProvider {
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly reloader: TlsReloader) {}

  private subscribe(): void {
    this.unsubscribe ??= this.reloader.onChange((m) => {
      for (const l of this.identityListeners) l({ certificate: m.cert, privateKey: m.key });
      for (const l of this.caListeners) if (m.clientCa) l({ caCertificate: m.clientCa });
    });
  }

  private maybeUnsubscribe(): void {
    if (this.caListeners.size === 0 && this.identityListeners.size === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    this.subscribe();
    const ca = this.reloader.current().clientCa;
    if (ca)
      process.nextTick(
        () => this.caListeners.has(listener) && listener({ caCertificate: this.reloader.current().clientCa ?? ca }),
      );
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
    this.maybeUnsubscribe();
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    this.subscribe();
    process.nextTick(() => {
      if (!this.identityListeners.has(listener)) return;
      const m = this.reloader.current();
      listener({ certificate: m.cert, privateKey: m.key });
    });
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
    this.maybeUnsubscribe();
  }
}

/**
 * gRPC server credentials that follow the reloader. With a client CA, clients must present a
 * certificate signed by it (the handshake fails otherwise).
 */
export function grpcServerCredentials(reloader: TlsReloader): grpc.ServerCredentials {
  const provider = new ReloaderCertificateProvider(reloader);
  const mutual = reloader.files.clientCaFile !== undefined;
  // grpc-js 1.14 hands its first argument to the credentials as the identity provider and the
  // second as the CA provider (null: no client certificates asked for); one provider serves both.
  return grpc.experimental.createCertificateProviderServerCredentials(provider, mutual ? provider : null, mutual);
}
