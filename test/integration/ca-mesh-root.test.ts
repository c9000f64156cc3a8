/**
 * Where the service-mesh CA's signer comes from: the DCM's own root, generated exactly once
 * even when several replicas start at once on an empty database (insert-unique on a fixed
 * _id, the losers read the winner's), and reused by every later start; or an operator-supplied
 * CA with its chain (DCM_CA_CERT_FILE, DCM_CA_KEY_FILE, DCM_CA_CHAIN_FILE), checked at start and
 * then signing the intermediates delivered to a real cluster, whose chain `openssl verify`
 * accepts only with the operator's intermediate.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, type Db } from 'mongodb';
import { pino } from 'pino';
import supertest from 'supertest';
import type { CaKeyPair } from '../../src/certificates/certificate-authority/ca-certificate-builder.js';
import { createRootCa } from '../../src/certificates/certificate-authority/root-ca.js';
import { createDcm, type Dcm } from '../../src/composition-root.js';
import { ConfigError, defaultConfig } from '../../src/config.js';
import { RootCaStore } from '../../src/features/certificate-authority/root-ca.store.js';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { testCipher } from '../support/dcm.js';
import { lcPath, setUpProjectAndClusters } from '../support/rest.js';
import { applyAndSettle, core, removeLeftovers, tenantLogicalCloud, terminateAndSettle } from './apply-helpers.js';
import { installSailIstioCrd, playSail } from './ca-mesh-helpers.js';

const PROJECT = 'camesh-op-project';
const LC = 'camesh-lc-op';
const NAMESPACE = 'camesh-ns-op';

let mongo: MongoClient;
let dir: string;
const databases: Db[] = [];
const freshDb = () => {
  const db = mongo.db(uniqueDatabaseName('camesh_root'));
  databases.push(db);
  return db;
};
const openssl = (args: string[]) => {
  const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: dir });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
};
const compose = (db: Db, config: Partial<ReturnType<typeof defaultConfig>> = {}): Promise<Dcm> =>
  createDcm({
    db,
    logger: pino({ level: process.env.DCM_TEST_LOG_LEVEL ?? 'silent' }),
    config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000, ...config },
    cipher: testCipher,
    bodyLimit: '1mb',
    ready: async () => true,
    auth: { mode: 'development' },
  });

/** A CA made by the openssl binary, self-signed or signed by `issuer`; answers its file paths and PEMs. */
function opensslCa(name: string, basicConstraints: string, issuer?: { certFile: string; keyFile: string }) {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  const ext = path.join(dir, `${name}.cnf`);
  fs.writeFileSync(
    ext,
    `[v3]\nbasicConstraints=${basicConstraints}\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n`,
  );
  if (!issuer) {
    expect(
      openssl([
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-subj',
        `/O=Operator/CN=${name}`,
        '-days',
        '30',
        '-config',
        ext,
        '-extensions',
        'v3',
        '-section',
        'v3',
      ]).code,
    ).toBe(0);
  } else {
    const csr = path.join(dir, `${name}.csr`);
    expect(
      openssl([
        'req',
        '-new',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        csr,
        '-subj',
        `/O=Operator/CN=${name}`,
      ]).code,
    ).toBe(0);
    const serial = `0x${randomBytes(8).toString('hex')}`;
    expect(
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        issuer.certFile,
        '-CAkey',
        issuer.keyFile,
        '-set_serial',
        serial,
        '-days',
        '30',
        '-extfile',
        ext,
        '-extensions',
        'v3',
        '-out',
        certFile,
      ]).code,
    ).toBe(0);
  }
  return { certFile, keyFile, pem: fs.readFileSync(certFile, 'utf8') };
}

beforeAll(async () => {
  mongo = await MongoClient.connect(mongoUrl());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-camesh-root-'));
});

afterAll(async () => {
  for (const db of databases) await db.dropDatabase().catch(() => undefined);
  await mongo.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the DCM's own root", () => {
  it('is generated once when several replicas start at the same time: one insert wins, the others use its root', async () => {
    const db = freshDb();
    const replicas = 4;
    // Every replica has generated its candidate (none saw a stored root) before any of them inserts.
    let generated = 0;
    let release: () => void = () => undefined;
    const allGenerated = new Promise<void>((resolve) => (release = resolve));
    const generate = async (): Promise<CaKeyPair> => {
      const candidate = await createRootCa({ subject: { commonName: 'race' }, validitySeconds: 86400, keyBits: 2048 });
      if (++generated === replicas) release();
      await allGenerated;
      return candidate;
    };
    const stores = Array.from({ length: replicas }, () => new RootCaStore(db, testCipher));
    const results = await Promise.all(stores.map((store, i) => store.ensure(generate, `replica-${i}`)));
    expect(generated).toBe(replicas);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.certificatePem)).size).toBe(1);
    expect(new Set(results.map((r) => r.keyPem)).size).toBe(1);
    expect(await db.collection('caRoot').countDocuments()).toBe(1);
  });

  it('is the same for every DCM composed on the database, also when they start together', async () => {
    const db = freshDb();
    const dcms = await Promise.all([compose(db), compose(db), compose(db)]);
    const roots = await Promise.all(
      dcms.map(
        async (dcm) => (await supertest(dcm.app).get('/v2/ca/root').expect(200)).body['root-certificate'] as string,
      ),
    );
    expect(new Set(roots).size).toBe(1);
    const later = await compose(db);
    expect((await supertest(later.app).get('/v2/ca/root').expect(200)).body['root-certificate']).toBe(roots[0]);
    expect(await db.collection('caRoot').countDocuments()).toBe(1);
  });
});

describe('an operator-supplied CA', () => {
  let opRoot: ReturnType<typeof opensslCa>;
  let opIntermediate: ReturnType<typeof opensslCa>;

  beforeAll(() => {
    opRoot = opensslCa('op-root', 'critical,CA:TRUE');
    opIntermediate = opensslCa('op-intermediate', 'critical,CA:TRUE,pathlen:1', opRoot);
  });

  it('is refused at start when it cannot sign intermediates, naming the setting', async () => {
    const refused = async (config: Record<string, string>, message: RegExp) => {
      const db = freshDb();
      await expect(compose(db, config)).rejects.toThrow(ConfigError);
      await expect(compose(db, config)).rejects.toThrow(message);
      expect(await db.collection('caRoot').countDocuments()).toBe(0);
    };
    await refused({ DCM_CA_CERT_FILE: opIntermediate.certFile }, /DCM_CA_CERT_FILE and DCM_CA_KEY_FILE go together/);
    await refused(
      { DCM_CA_CERT_FILE: opIntermediate.certFile, DCM_CA_KEY_FILE: opIntermediate.keyFile },
      /DCM_CA_CERT_FILE is not self-signed: give its chain up to the root in DCM_CA_CHAIN_FILE/,
    );
    await refused(
      {
        DCM_CA_CERT_FILE: opIntermediate.certFile,
        DCM_CA_KEY_FILE: opRoot.keyFile,
        DCM_CA_CHAIN_FILE: opRoot.certFile,
      },
      /DCM_CA_KEY_FILE does not match/,
    );
    await refused(
      { DCM_CA_CERT_FILE: path.join(dir, 'missing.pem'), DCM_CA_KEY_FILE: opRoot.keyFile },
      /DCM_CA_CERT_FILE: cannot read/,
    );
    const pathlen0 = opensslCa('op-pathlen0', 'critical,CA:TRUE,pathlen:0', opRoot);
    await refused(
      { DCM_CA_CERT_FILE: pathlen0.certFile, DCM_CA_KEY_FILE: pathlen0.keyFile, DCM_CA_CHAIN_FILE: opRoot.certFile },
      /path length constraint is 0/,
    );
  });

  it("signs the intermediates delivered to a cluster; openssl verifies them with the operator's intermediate up to its root", async () => {
    const db = freshDb();
    const dcm = await compose(db, {
      DCM_CA_CERT_FILE: opIntermediate.certFile,
      DCM_CA_KEY_FILE: opIntermediate.keyFile,
      DCM_CA_CHAIN_FILE: opRoot.certFile,
    });
    const http = supertest(dcm.app);
    const root = (await http.get('/v2/ca/root').expect(200)).body;
    expect(root).toMatchObject({
      source: 'operator',
      'root-certificate': new X509Certificate(opRoot.pem).toString(),
      'signer-certificate': new X509Certificate(opIntermediate.pem).toString(),
    });
    expect(root['signer-chain']).toEqual([new X509Certificate(opRoot.pem).toString()]);
    // The DCM generated no root of its own.
    expect(await db.collection('caRoot').countDocuments()).toBe(0);

    await installSailIstioCrd();
    const stopSail = await playSail([LC]);
    const leftover = await core(0).listNamespace({ labelSelector: `dcm.onap.org/logical-cloud=${LC}` });
    await removeLeftovers([NAMESPACE, ...leftover.items.map((n) => n.metadata!.name!)], [LC]);
    try {
      await setUpProjectAndClusters({ http }, PROJECT);
      const body = tenantLogicalCloud(LC, NAMESPACE, 'camesh-op-user');
      await http
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send({ ...body, spec: { ...body.spec, serviceMesh: { enabled: true } } })
        .expect(201);
      await http
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: 'cluster-1' })
        .expect(201);
      const status = await applyAndSettle({ http, dcm }, PROJECT, LC);
      expect(status.clusters[0]).toMatchObject({ 'ca-status': 'Created', 'mesh-status': 'Ready' });

      const ca = (await http.get(`${lcPath(PROJECT, LC)}/ca`).expect(200)).body;
      const secret = await core(0).readNamespacedSecret({ name: 'cacerts', namespace: ca['control-plane-namespace'] });
      const data = (key: string) => Buffer.from(secret.data![key]!, 'base64').toString('utf8');
      const chain = data('cert-chain.pem').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)!;
      expect(chain).toHaveLength(3);
      expect(new X509Certificate(chain[1]!).fingerprint256).toBe(
        new X509Certificate(opIntermediate.pem).fingerprint256,
      );
      expect(new X509Certificate(data('root-cert.pem')).fingerprint256).toBe(
        new X509Certificate(opRoot.pem).fingerprint256,
      );
      const write = (name: string, text: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return file;
      };
      const caCert = write('delivered-ca-cert.pem', data('ca-cert.pem'));
      const rootFile = write('delivered-root.pem', data('root-cert.pem'));
      const intermediates = write('delivered-intermediates.pem', chain.slice(0, -1).join(''));
      expect(openssl(['verify', '-CAfile', rootFile, '-untrusted', intermediates, caCert])).toMatchObject({
        code: 0,
        output: expect.stringMatching(/: OK/),
      });
      // Without the operator's intermediate there is no path to the root.
      expect(openssl(['verify', '-CAfile', rootFile, caCert]).code).not.toBe(0);

      expect((await terminateAndSettle({ http, dcm }, PROJECT, LC)).status).toBe('Terminated');
      await http.delete(lcPath(PROJECT, LC)).expect(204);
    } finally {
      stopSail();
      await dcm.services.lifecycle.idle();
      const ours = await core(0).listNamespace({ labelSelector: `dcm.onap.org/logical-cloud=${LC}` });
      await removeLeftovers([NAMESPACE, ...ours.items.map((n) => n.metadata!.name!)], [LC]);
    }
  });
});
