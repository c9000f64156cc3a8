/**
 * A DCM composed exactly as in production (composition root), on its own database of the
 * real MongoDB-protocol test server, driven over HTTP with supertest.
 */
import { Writable } from 'node:stream';
import { MongoClient } from 'mongodb';
import { pino, type Logger } from 'pino';
import supertest from 'supertest';
import { createDcm, type Dcm, type DcmOptions } from '../../src/composition-root.js';
import { defaultConfig } from '../../src/config.js';
import { generateEncryptionKey, parseEncryptionKeys, SecretCipher } from '../../src/security/secret-cipher.js';
import { mongoUrl, uniqueDatabaseName } from './backends.js';

export interface TestDcm {
  dcm: Dcm;
  http: ReturnType<typeof supertest>;
  mongo: MongoClient;
  databaseName: string;
  close(): Promise<void>;
}

/** The encryption key of this test file's DCMs (all of them: a second "process" on one database must open the first's secrets). */
export const testEncryptionKey = generateEncryptionKey('test-1');
export const testCipher = new SecretCipher(parseEncryptionKeys(testEncryptionKey));

/** A logger whose JSON lines a test reads back (audit lines, refusals). */
export function captureLogger(level = 'info'): {
  logger: Logger;
  records: () => Record<string, unknown>[];
  text: () => string;
} {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: pino({ level }, stream),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join('\n'),
  };
}

/**
 * What a test may change in its DCM: authentication (default here: `{ mode: 'development' }`, no authentication),
 * logger, /metrics token, the CSR seam, the cluster gateway provider.
 */
export type TestDcmOptions = Pick<
  DcmOptions,
  'auth' | 'logger' | 'metricsToken' | 'beforeCsrApproval' | 'config' | 'gateways'
>;

export async function startTestDcm(prefix = 'dcm', options: Partial<TestDcmOptions> = {}): Promise<TestDcm> {
  const mongo = await MongoClient.connect(mongoUrl());
  const databaseName = uniqueDatabaseName(prefix);
  const db = mongo.db(databaseName);
  const { auth = { mode: 'development' }, ...rest } = options;
  const dcm = await createDcm({
    db,
    logger: pino({ level: process.env.DCM_TEST_LOG_LEVEL ?? 'silent' }),
    // DCM_METRICS_REFRESH_MS 0 (below the configuration's minimum): tests look at /metrics counts right after changing them.
    config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000, DCM_METRICS_REFRESH_MS: 0 },
    cipher: testCipher,
    bodyLimit: '1mb',
    ready: async () => true,
    ...rest,
    // Development (no authentication) unless the test passes its own: always explicit, createDcm has no default.
    auth,
  });
  return {
    dcm,
    http: supertest(dcm.app),
    mongo,
    databaseName,
    close: async () => {
      await dcm.services.lifecycle.idle();
      await db.dropDatabase().catch(() => undefined);
      await mongo.close();
    },
  };
}

/** The design document's sample bodies, with their `//` comments removed. */
export const design = {
  logicalCloud: () => ({
    metadata: {
      name: 'lc-1',
      description: 'logical cloud for walmart finance department',
      userData1: '<user data>',
      userData2: '<user data>',
    },
    spec: {
      namespace: 'ns-1',
      user: {
        'user-name': 'user-1',
        type: 'certificate',
        'user-permissions': [
          {
            'permission-name': 'permission-1',
            apiGroups: ['stable.example.com'],
            resources: ['secrets', 'pods'],
            verbs: ['get', 'watch', 'list', 'create'],
          },
          { 'permission-name': 'permission-2', apiGroups: [''], resources: ['configmaps'], verbs: ['*'] },
        ],
      },
    },
  }),
  permission3: () => ({ name: 'permission-3', apiGroups: [''], resources: ['jobs'], verbs: ['list'] }),
  permission3Update: () => ({ apiGroups: [''], resources: ['pvc'], verbs: ['list'] }),
  quota: () => ({
    metadata: { name: 'quota-1', description: 'desc' },
    spec: { cpu: '400', memory: '1000Gi', pods: '500' },
  }),
  quotaUpdate: () => ({ metadata: { description: 'desc' }, spec: { cpu: '400', memory: '1000Gi', pods: '500' } }),
  kvPair: () => ({
    metadata: { name: 'kv-1', description: '<description>', userData1: '<user data>', userData2: '<user data>' },
    spec: { kv: [{ key1: 'val1' }, { key2: 'val2' }] },
  }),
  kvPairUpdate: () => ({
    metadata: { description: '<description>', userData1: '<user data>', userData2: '<user data>' },
    spec: { kv: [{ key1: 'val3' }, { key2: 'val4' }] },
  }),
};
