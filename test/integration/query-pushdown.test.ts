/**
 * Issue 27 item 2: every query a store issues on the hot paths (create, get, apply, status,
 * drift) is one the database answers from its storage: equality on top-level fields only, and
 * FerretDB v1 (the test and embedded database) reports it pushed down in its `explain`. The
 * queries are those the DCM really sends, seen through the driver's command monitoring.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import supertest from 'supertest';
import { createDcm, type Dcm } from '../../src/composition-root.js';
import { defaultConfig } from '../../src/config.js';
import { LogicalCloudStore } from '../../src/features/logical-clouds/logical-cloud.store.js';
import { kubectl, mongoUrl, testClusters, uniqueDatabaseName } from '../support/backends.js';
import { design, testCipher } from '../support/dcm.js';
import { ferretdbPushesDown, notPushable, recordQueries, type IssuedQuery } from '../support/query-pushdown.js';
import { createProject, createProvider, kubeconfigText, lcPath } from '../support/rest.js';
import { until } from '../support/until.js';
import { applyAndSettle, removeLeftovers, tenantLogicalCloud } from './apply-helpers.js';

const PROJECT = 'project-pushdown';
const LC = 'lc-pushdown';
const NS = 'ns-pushdown';
const BINDING = 'dcm-permission-2';

describe('the hot paths ask only what the database pushes down', () => {
  let client: MongoClient;
  let dbName: string;
  let dcm: Dcm;
  let http: ReturnType<typeof supertest>;
  let queries: { take(): IssuedQuery[] };

  /** The queries of `work` that are not pushed down, with the reason (static shape, then FerretDB's explain). */
  async function notPushedDown(work: () => Promise<unknown>): Promise<string[]> {
    queries.take();
    await work();
    const problems: string[] = [];
    const taken = queries.take();
    expect(taken.length).toBeGreaterThan(0);
    for (const query of taken) {
      const where = `${query.command} ${query.collection} ${JSON.stringify(query.filter)}`;
      const why = notPushable(query.filter);
      if (why) problems.push(`${where}: ${why}`);
      else if ((await ferretdbPushesDown(client.db(dbName), query)) === false)
        problems.push(`${where}: FerretDB explain filterPushdown false`);
    }
    return [...new Set(problems)];
  }

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    client = await MongoClient.connect(mongoUrl(), { monitorCommands: true });
    dbName = uniqueDatabaseName('pushdown');
    queries = recordQueries(client, dbName);
    dcm = await createDcm({
      db: client.db(dbName),
      logger: pino({ level: process.env.DCM_TEST_LOG_LEVEL ?? 'silent' }),
      config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000, DCM_DRIFT_DEBOUNCE_MS: 500 },
      cipher: testCipher,
      bodyLimit: '1mb',
      ready: async () => true,
      auth: { mode: 'development' },
    });
    http = supertest(dcm.app);
    await createProject({ http }, PROJECT);
    await createProvider({ http }, 'provider-1');
    for (const i of [1, 2] as const)
      await http
        .post('/v2/cluster-providers/provider-1/clusters')
        .send({ metadata: { name: `cluster-${i}` }, spec: { kubeconfig: kubeconfigText(i) } })
        .expect(201);
  });

  afterAll(async () => {
    await dcm?.services.driftWatcher.stop();
    const res = await http?.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await dcm.services.lifecycle.settled(PROJECT, LC);
    await dcm?.services.lifecycle.idle();
    await client?.db(dbName).dropDatabase();
    await client?.close();
  });

  it('create: a logical cloud, its cluster references and a quota', async () => {
    expect(
      await notPushedDown(async () => {
        await http
          .post(`/v2/projects/${PROJECT}/logical-clouds`)
          .send(tenantLogicalCloud(LC, NS, 'user-pd'))
          .expect(201);
        for (const c of ['cluster-1', 'cluster-2'])
          await http
            .post(`${lcPath(PROJECT, LC)}/cluster-references`)
            .send({ name: c })
            .expect(201);
        await http
          .post(`${lcPath(PROJECT, LC)}/cluster-quotas`)
          .send(design.quota())
          .expect(201);
      }),
    ).toEqual([]);
  });

  it('a create without a clusterSelector asks nothing of the cluster selection (no reads, no lease)', async () => {
    queries.take();
    await http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud('lc-no-selector', 'ns-no-selector', 'user-ns'))
      .expect(201);
    const touched = new Set(queries.take().map((q) => q.collection));
    expect([...touched].filter((c) => ['clusterSelections', 'leases', 'clusterReferences'].includes(c))).toEqual([]);
    expect(touched).toContain('projects'); // the recording works: the create's own reads are there
    await http.delete(lcPath(PROJECT, 'lc-no-selector')).expect(204);
  });

  it('get: the logical cloud and one of its cluster references', async () => {
    expect(
      await notPushedDown(async () => {
        await http.get(lcPath(PROJECT, LC)).expect(200);
        await http.get(`${lcPath(PROJECT, LC)}/cluster-references/cluster-1`).expect(200);
      }),
    ).toEqual([]);
  });

  it('a list page: the names once (from the names collection), then the page by name (no sort, skip or count)', async () => {
    queries.take();
    const page = await http.get(`/v2/projects/${PROJECT}/logical-clouds?limit=1&offset=0`).expect(200);
    expect(page.headers['x-total-count']).toBe('1');
    const taken = queries.take();
    const names = taken.filter((q) => q.collection === 'logicalClouds_names');
    expect(names.map((q) => q.filter)).toEqual([{ project: PROJECT }]);
    const asked = taken.filter((q) => q.collection === 'logicalClouds');
    // The records themselves are read only by name: never the whole project's.
    expect(asked.map((q) => q.filter)).toEqual([{ project: PROJECT, name: LC }]);
    expect(asked.map((q) => q.command)).not.toContain('count');
    expect(asked.map((q) => q.command)).not.toContain('aggregate');
    expect(await notPushedDown(() => http.get(`/v2/projects/${PROJECT}/logical-clouds?limit=1`).expect(200))).toEqual(
      [],
    );
  });

  it('the fleet follower’s periodic turn: which logical clouds select clusters (not a scan of them all)', async () => {
    const store = new LogicalCloudStore(client.db(dbName));
    expect(await notPushedDown(() => store.selecting())).toEqual([]);
  });

  it('apply and status', async () => {
    expect(
      await notPushedDown(async () => {
        expect((await applyAndSettle({ http, dcm }, PROJECT, LC)).state).toBe('Instantiated');
        await http.get(`${lcPath(PROJECT, LC)}/status`).expect(200);
      }),
    ).toEqual([]);
  });

  it('drift: a deleted RoleBinding found and restored', async () => {
    await dcm.services.driftWatcher.start();
    await dcm.services.driftWatcher.idle();
    const admin = { path: testClusters[0].kubeconfigPath() };
    const exists = async () =>
      (await kubectl(admin, ['get', 'rolebinding', BINDING, '-n', NS, '-o', 'name'])).code === 0;
    expect(
      await notPushedDown(async () => {
        expect((await kubectl(admin, ['delete', 'rolebinding', BINDING, '-n', NS])).code).toBe(0);
        await until(exists, 'the RoleBinding restored');
        await dcm.services.driftWatcher.idle();
      }),
    ).toEqual([]);
  });

  it('which logical clouds are on a cluster (drift watches, unregistration): found, and pushed down', async () => {
    const statuses = dcm.stores.lifecycle;
    const lc = await dcm.stores.logicalClouds.get({ project: PROJECT }, LC);
    let found: string[][] = [];
    expect(
      await notPushedDown(async () => {
        found = [
          await statuses.placedOn('provider-1', 'cluster-1'),
          await statuses.holdingCluster('provider-1', 'cluster-2'),
          await statuses.placedOn('provider-1', 'cluster-9'),
        ];
      }),
    ).toEqual([]);
    expect(found).toEqual([[lc!.id], [`${PROJECT}/${LC}`], []]);
  });
});
