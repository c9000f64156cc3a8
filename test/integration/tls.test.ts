/**
 * TLS on both APIs, with the DCM as a real process (`src/main.ts`) and real TLS clients:
 * curl with --cacert against REST, grpc-js with SSL credentials against gRPC. Plaintext
 * clients are refused, gRPC mTLS refuses clients without a certificate of the configured CA,
 * new certificate files are served to new connections (on the reload interval, and on
 * SIGHUP), and a broken TLS configuration stops start-up with exit code 2. Certificates come
 * from the openssl CLI in a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import grpc from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { loadDcmProto } from '../../src/grpc/proto.js';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { OpensslWorkspace } from '../support/openssl.js';
import { runServiceProcessToExit, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../testenv/processes.js';

const ws = new OpensslWorkspace('dcm-tls-');
const at = (name: string) => path.join(ws.dir, name);

function openssl(args: string[]): void {
  const r = ws.run(args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.output}`);
}

/** A self-signed CA: `<name>.crt`, `<name>.key`. */
function makeCa(name: string): void {
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at(`${name}.key`),
    '-out',
    at(`${name}.crt`),
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** A leaf `<name>.crt` / `<name>.key` signed by `ca`, with the given serial (hex). */
function makeLeaf(name: string, ca: string, serial: string, usage: 'serverAuth' | 'clientAuth'): void {
  openssl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at(`${name}.key`),
    '-out',
    at(`${name}.csr`),
    '-subj',
    `/CN=${name}`,
  ]);
  const ext = at(`${name}.ext`);
  fs.writeFileSync(
    ext,
    usage === 'serverAuth'
      ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
      : 'extendedKeyUsage=clientAuth\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    at(`${name}.csr`),
    '-CA',
    at(`${ca}.crt`),
    '-CAkey',
    at(`${ca}.key`),
    '-set_serial',
    `0x${serial}`,
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    at(`${name}.crt`),
  ]);
}

const read = (name: string) => fs.readFileSync(at(name));

/** Replaces the served files the way a mounted Secret changes: each file swapped whole. */
function install(dir: string, leaf: string): { cert: string; key: string } {
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  for (const [from, to] of [
    [`${leaf}.key`, key],
    [`${leaf}.crt`, cert],
  ] as const) {
    fs.copyFileSync(at(from), `${to}.new`);
    fs.renameSync(`${to}.new`, to);
  }
  return { cert, key };
}

function curl(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('curl', ['--silent', '--show-error', '--max-time', '10', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The serial of the certificate a new TLS connection to `port` is served. */
function servedSerial(port: number, ca: Buffer, alpn?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: alpn ? [alpn] : undefined },
      () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.end();
        resolve(serial);
      },
    );
    socket.on('error', reject);
  });
}

interface HealthAnswer {
  status: string;
}

/** grpc.health.v1 Check over a new connection with the given credentials; the answer and the certificate serial the server showed. */
async function grpcHealth(
  port: number,
  credentials: (check: tls.PeerCertificate[]) => grpc.ChannelCredentials,
): Promise<{ status: string; serial?: string }> {
  const seen: tls.PeerCertificate[] = [];
  const proto = loadDcmProto();
  // A local subchannel pool: a new connection, never one another client opened before.
  const client: Client = new proto.Health(`127.0.0.1:${port}`, credentials(seen), {
    'grpc.use_local_subchannel_pool': 1,
  });
  try {
    const answer = await new Promise<HealthAnswer>((resolve, reject) => {
      (
        client as unknown as {
          Check: (r: unknown, o: grpc.CallOptions, cb: (e: ServiceError | null, a: HealthAnswer) => void) => void;
        }
      ).Check({ service: '' }, { deadline: Date.now() + 5_000 }, (error, answer) =>
        error ? reject(error) : resolve(answer),
      );
    });
    return { status: answer.status, serial: seen.at(-1)?.serialNumber };
  } finally {
    client.close();
  }
}

/** SSL credentials trusting `ca` (and presenting a client certificate when given) that record the server's certificate. */
const ssl = (ca: Buffer, client?: { key: Buffer; cert: Buffer }) => (seen: tls.PeerCertificate[]) =>
  grpc.credentials.createSsl(ca, client?.key ?? null, client?.cert ?? null, {
    checkServerIdentity: (host, cert) => {
      seen.push(cert);
      return tls.checkServerIdentity(host, cert);
    },
  });

async function grpcRefusal(
  port: number,
  credentials: (seen: tls.PeerCertificate[]) => grpc.ChannelCredentials,
): Promise<number> {
  try {
    await grpcHealth(port, credentials);
  } catch (error) {
    return (error as ServiceError).code;
  }
  throw new Error('the call was served');
}

describe('TLS on the REST and gRPC APIs', () => {
  const database = uniqueDatabaseName('tls');
  const base = { MONGO_URL: mongoUrl(), DCM_DATABASE: database, DCM_DEVELOPMENT_MODE: 'true' };
  let ca: Buffer;

  beforeAll(() => {
    makeCa('server-ca');
    makeCa('sibling-ca');
    makeCa('stranger-ca');
    makeLeaf('server-1', 'server-ca', '1001', 'serverAuth');
    makeLeaf('server-2', 'server-ca', '2002', 'serverAuth');
    makeLeaf('server-3', 'server-ca', '3003', 'serverAuth');
    makeLeaf('server-4', 'server-ca', '4004', 'serverAuth');
    makeLeaf('sibling', 'sibling-ca', '5005', 'clientAuth');
    makeLeaf('stranger', 'stranger-ca', '6006', 'clientAuth');
    ca = read('server-ca.crt');
  });

  afterAll(async () => {
    ws.remove();
    const mongo = await MongoClient.connect(mongoUrl());
    await mongo
      .db(database)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
  });

  describe('start-up refuses a TLS configuration that cannot serve (exit code 2, naming the variable)', () => {
    it.each([
      [
        'a certificate without a key',
        () => ({ DCM_TLS_CERT_FILE: at('server-1.crt') }),
        /DCM_TLS_KEY_FILE: DCM_TLS_CERT_FILE and DCM_TLS_KEY_FILE go together/,
      ],
      [
        'a key without a certificate',
        () => ({ DCM_TLS_KEY_FILE: at('server-1.key') }),
        /DCM_TLS_CERT_FILE: DCM_TLS_CERT_FILE and DCM_TLS_KEY_FILE go together/,
      ],
      [
        'a missing certificate file',
        () => ({ DCM_TLS_CERT_FILE: at('nowhere.crt'), DCM_TLS_KEY_FILE: at('server-1.key') }),
        /DCM_TLS_CERT_FILE: \S+nowhere\.crt cannot be read: ENOENT/,
      ],
      [
        'a file that is no certificate',
        () => ({ DCM_TLS_CERT_FILE: at('server-1.key'), DCM_TLS_KEY_FILE: at('server-1.key') }),
        /DCM_TLS_CERT_FILE: \S+server-1\.key holds no PEM certificate/,
      ],
      [
        'the key of another certificate',
        () => ({ DCM_TLS_CERT_FILE: at('server-1.crt'), DCM_TLS_KEY_FILE: at('server-2.key') }),
        /DCM_TLS_KEY_FILE: \S+server-2\.key is not the key of the certificate in DCM_TLS_CERT_FILE/,
      ],
      [
        'a client CA without TLS',
        () => ({ DCM_GRPC_CLIENT_CA_FILE: at('sibling-ca.crt') }),
        /DCM_GRPC_CLIENT_CA_FILE: needs DCM_TLS_CERT_FILE and DCM_TLS_KEY_FILE/,
      ],
      [
        'a client CA that is not a CA',
        () => ({
          DCM_TLS_CERT_FILE: at('server-1.crt'),
          DCM_TLS_KEY_FILE: at('server-1.key'),
          DCM_GRPC_CLIENT_CA_FILE: at('sibling.crt'),
        }),
        /DCM_GRPC_CLIENT_CA_FILE: \S+sibling\.crt: certificate 1 is not a CA certificate/,
      ],
    ])('%s', async (_case, env, message) => {
      const { code, output } = await runServiceProcessToExit('tls-refused', { ...base, ...env() });
      expect(output).toMatch(/invalid configuration/);
      expect(output).toMatch(message);
      expect(code).toBe(2);
    });
  });

  describe('TLS, files read again on an interval', () => {
    let dcm: ServiceProcess;
    const dir = fs.mkdtempSync(path.join(ws.dir, 'served-'));

    beforeAll(async () => {
      const files = install(dir, 'server-1');
      dcm = await startServiceProcess(
        'tls',
        { ...base, DCM_TLS_CERT_FILE: files.cert, DCM_TLS_KEY_FILE: files.key, DCM_TLS_RELOAD_INTERVAL_MS: '200' },
        { tlsCa: ca.toString() },
      );
    });

    afterAll(async () => {
      await dcm?.stop();
    });

    it('serves REST over HTTPS to curl --cacert', () => {
      const r = curl([
        '--cacert',
        at('server-ca.crt'),
        '--write-out',
        '%{http_code}',
        '--output',
        '/dev/null',
        `https://127.0.0.1:${dcm.httpPort}/readyz`,
      ]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('200');
      const projects = curl(['--cacert', at('server-ca.crt'), `https://127.0.0.1:${dcm.httpPort}/v2/projects`]);
      expect(JSON.parse(projects.stdout)).toEqual(expect.any(Array));
    });

    it('refuses plaintext HTTP and clients that do not trust the certificate', () => {
      const plain = curl([
        '--write-out',
        '%{http_code}',
        '--output',
        '/dev/null',
        `http://127.0.0.1:${dcm.httpPort}/readyz`,
      ]);
      expect(plain.code).not.toBe(0);
      expect(plain.stdout).toBe('000');
      const untrusted = curl(['--output', '/dev/null', `https://127.0.0.1:${dcm.httpPort}/readyz`]);
      expect(untrusted.code).toBe(60); // peer certificate cannot be authenticated
    });

    it('serves gRPC over TLS; a plaintext gRPC client gets UNAVAILABLE', async () => {
      expect(await grpcHealth(dcm.grpcPort, ssl(ca))).toEqual({ status: 'SERVING', serial: '1001' });
      expect(await grpcRefusal(dcm.grpcPort, () => grpc.credentials.createInsecure())).toBe(grpc.status.UNAVAILABLE);
      // no client certificate is asked for without DCM_GRPC_CLIENT_CA_FILE
      expect(await servedSerial(dcm.grpcPort, ca, 'h2')).toBe('1001');
    });

    it('serves replaced certificate files to new connections, REST and gRPC', async () => {
      expect(await servedSerial(dcm.httpPort, ca)).toBe('1001');
      install(dir, 'server-2');
      await waitFor('the new REST certificate', async () => (await servedSerial(dcm.httpPort, ca)) === '2002', {
        timeoutMs: 10_000,
      });
      expect(await grpcHealth(dcm.grpcPort, ssl(ca))).toEqual({ status: 'SERVING', serial: '2002' });
      const r = curl([
        '--cacert',
        at('server-ca.crt'),
        '--write-out',
        '%{http_code}',
        '--output',
        '/dev/null',
        `https://127.0.0.1:${dcm.httpPort}/healthz`,
      ]);
      expect(r.stdout).toBe('200');
      expect(dcm.logText()).toMatch(/"serial":"2002".*"msg":"TLS certificate reloaded"/);
    });

    it('keeps serving the previous certificate while the files do not match', async () => {
      // only the key is replaced: the pair does not match, so nothing changes
      fs.copyFileSync(at('server-3.key'), path.join(dir, 'tls.key'));
      await waitFor(
        'the warning',
        async () => dcm.logText().includes('TLS files cannot be used; still serving the previous certificate'),
        { timeoutMs: 10_000 },
      );
      expect(await servedSerial(dcm.httpPort, ca)).toBe('2002');
      expect((await grpcHealth(dcm.grpcPort, ssl(ca))).serial).toBe('2002');
      fs.copyFileSync(at('server-3.crt'), path.join(dir, 'tls.crt'));
      await waitFor('the completed set', async () => (await servedSerial(dcm.httpPort, ca)) === '3003', {
        timeoutMs: 10_000,
      });
      expect((await grpcHealth(dcm.grpcPort, ssl(ca))).serial).toBe('3003');
    });
  });

  describe('gRPC mTLS (DCM_GRPC_CLIENT_CA_FILE), files read again on SIGHUP', () => {
    let dcm: ServiceProcess;
    const dir = fs.mkdtempSync(path.join(ws.dir, 'mtls-'));
    const sibling = () => ({ key: read('sibling.key'), cert: read('sibling.crt') });

    beforeAll(async () => {
      const files = install(dir, 'server-1');
      dcm = await startServiceProcess(
        'mtls',
        {
          ...base,
          DCM_TLS_CERT_FILE: files.cert,
          DCM_TLS_KEY_FILE: files.key,
          DCM_GRPC_CLIENT_CA_FILE: at('sibling-ca.crt'),
        },
        { tlsCa: ca.toString() },
      );
    });

    afterAll(async () => {
      await dcm?.stop();
    });

    it('serves a sibling service with a certificate of the client CA', async () => {
      expect(await grpcHealth(dcm.grpcPort, ssl(ca, sibling()))).toEqual({ status: 'SERVING', serial: '1001' });
    });

    it('refuses a client without a certificate, with one of another CA, and a plaintext one', async () => {
      expect(await grpcRefusal(dcm.grpcPort, ssl(ca))).toBe(grpc.status.UNAVAILABLE);
      expect(await grpcRefusal(dcm.grpcPort, ssl(ca, { key: read('stranger.key'), cert: read('stranger.crt') }))).toBe(
        grpc.status.UNAVAILABLE,
      );
      expect(await grpcRefusal(dcm.grpcPort, () => grpc.credentials.createInsecure())).toBe(grpc.status.UNAVAILABLE);
    });

    it('asks no client certificate on REST (probes and browsers), still over TLS only', () => {
      const r = curl([
        '--cacert',
        at('server-ca.crt'),
        '--write-out',
        '%{http_code}',
        '--output',
        '/dev/null',
        `https://127.0.0.1:${dcm.httpPort}/healthz`,
      ]);
      expect(r.stdout).toBe('200');
      expect(curl(['--output', '/dev/null', `http://127.0.0.1:${dcm.httpPort}/healthz`]).code).not.toBe(0);
    });

    it('serves new certificate files after SIGHUP, still requiring client certificates', async () => {
      install(dir, 'server-4');
      dcm.kill('SIGHUP');
      await waitFor('the new REST certificate', async () => (await servedSerial(dcm.httpPort, ca)) === '4004', {
        timeoutMs: 10_000,
      });
      expect(await grpcHealth(dcm.grpcPort, ssl(ca, sibling()))).toEqual({ status: 'SERVING', serial: '4004' });
      expect(await grpcRefusal(dcm.grpcPort, ssl(ca))).toBe(grpc.status.UNAVAILABLE);
      expect(dcm.logText()).toMatch(/"trigger":"SIGHUP","serial":"4004"/);
    });
  });
});
