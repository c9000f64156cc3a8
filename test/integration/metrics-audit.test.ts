/**
 * /metrics and the audit trail of a DCM enforcing static tokens: request counters and
 * latency histograms per route pattern and per gRPC method and code, apply/terminate per
 * cluster on a real test cluster, logical clouds per state counted in MongoDB (the same from
 * another replica), and one audit line per mutation naming the caller, never a token.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import { design } from '../support/dcm.js';
import { bearer, grpcError, startTestGrpc, struct, type TestGrpc } from '../support/grpc.js';
import { createProject, createProvider, lcPath, registerCluster } from '../support/rest.js';
import {
  applyAndSettle,
  composeDcm,
  removeLeftovers,
  tenantLogicalCloud,
  terminateAndSettle,
} from './apply-helpers.js';
import { allowEverything, startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

const LC = 'lc-metrics';
const NS = 'ns-metrics';
const LC_ROUTE = '/v2/projects/:project/logical-clouds/:logicalCloud';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (fails on a line it cannot read). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a metrics sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one series of `name` with exactly these labels (0 when it does not exist yet). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number {
  const matching = samples.filter(
    (s) =>
      s.name === name &&
      JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
  );
  expect(matching.length).toBeLessThanOrEqual(1);
  return matching[0]?.value ?? 0;
}

describe('metrics and audit', () => {
  let t: AuthTestDcm;
  let g: TestGrpc;
  const team = () => t.as(TOKENS.team1);
  const scrape = async (http = t.http) => {
    const res = await http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseMetrics(res.text);
  };
  const auditLines = (reqId: string) => t.logs.records().filter((r) => r.reqId === reqId && r.audit === true);

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startAuthDcm('metrics_audit');
    g = await startTestGrpc(t);
    const admin = { http: t.as(TOKENS.admin) };
    await createProject(admin, 'p1');
    await createProvider(admin, 'provider-1');
    await registerCluster(admin, 'provider-1', 'cluster-1', 1);
    await allowEverything(admin.http, 'p1');
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
    await removeLeftovers([NS], [LC]);
  });

  describe('/metrics', () => {
    it('counts REST requests and their latency per route pattern, method and status, never per raw URL', async () => {
      const body = design.logicalCloud();
      body.metadata.name = 'lc-a';
      body.spec.namespace = 'ns-metrics-a';
      expect((await team().post('/v2/projects/p1/logical-clouds').send(body)).status).toBe(201);
      const before = await scrape();
      for (let i = 0; i < 3; i++) expect((await team().get(lcPath('p1', 'lc-a'))).status).toBe(200);
      expect((await team().get(lcPath('p1', 'lc-zzz'))).status).toBe(404);
      const after = await scrape();

      const ok = { method: 'GET', route: LC_ROUTE, status: '200' };
      const missing = { method: 'GET', route: LC_ROUTE, status: '404' };
      expect(valueOf(after, 'dcm_http_requests_total', ok) - valueOf(before, 'dcm_http_requests_total', ok)).toBe(3);
      expect(
        valueOf(after, 'dcm_http_requests_total', missing) - valueOf(before, 'dcm_http_requests_total', missing),
      ).toBe(1);
      expect(
        valueOf(after, 'dcm_http_request_duration_seconds_count', ok) -
          valueOf(before, 'dcm_http_request_duration_seconds_count', ok),
      ).toBe(3);
      expect(valueOf(after, 'dcm_http_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(
        valueOf(after, 'dcm_http_request_duration_seconds_count', ok),
      );
      expect(valueOf(after, 'dcm_http_request_duration_seconds_sum', ok)).toBeGreaterThan(
        valueOf(before, 'dcm_http_request_duration_seconds_sum', ok),
      );
      const routes = after.filter((s) => s.name.startsWith('dcm_http_')).map((s) => s.labels.route);
      expect(routes.filter((r) => r?.includes('lc-a') || r?.includes('lc-zzz') || r?.includes('p1'))).toEqual([]);
      // Refusals before routing are counted too, under `unmatched`.
      const refused = { method: 'GET', route: 'unmatched', status: '401' };
      await t.http.get(lcPath('p1', 'lc-a'));
      expect(
        valueOf(await scrape(), 'dcm_http_requests_total', refused) -
          valueOf(after, 'dcm_http_requests_total', refused),
      ).toBe(1);
    });

    it('counts gRPC calls and their latency per method and status code', async () => {
      const before = await scrape();
      const ref = { project: 'p1', name: 'lc-a' };
      await g.call('GetLogicalCloud', ref, {}, bearer(TOKENS.team1));
      await g.call('GetLogicalCloud', ref, {}, bearer(TOKENS.team1));
      expect(
        (await grpcError(g.call('GetLogicalCloud', { project: 'p1', name: 'nope' }, {}, bearer(TOKENS.team1)))).code,
      ).toBe(grpc.status.NOT_FOUND);
      expect(
        (await grpcError(g.call('GetLogicalCloud', { project: 'p2', name: 'lc-a' }, {}, bearer(TOKENS.team1)))).code,
      ).toBe(grpc.status.PERMISSION_DENIED);
      expect((await grpcError(g.call('GetLogicalCloud', ref))).code).toBe(grpc.status.UNAUTHENTICATED);
      await g.call('Health.Check', { service: '' });
      const after = await scrape();

      const series = (method: string, code: string, service = 'dcm.v1.LogicalCloudService') => ({
        service,
        method,
        code,
      });
      const delta = (name: string, labels: Record<string, string>) =>
        valueOf(after, name, labels) - valueOf(before, name, labels);
      expect(delta('dcm_grpc_requests_total', series('GetLogicalCloud', 'OK'))).toBe(2);
      expect(delta('dcm_grpc_requests_total', series('GetLogicalCloud', 'NOT_FOUND'))).toBe(1);
      expect(delta('dcm_grpc_requests_total', series('GetLogicalCloud', 'PERMISSION_DENIED'))).toBe(1);
      expect(delta('dcm_grpc_requests_total', series('GetLogicalCloud', 'UNAUTHENTICATED'))).toBe(1);
      expect(delta('dcm_grpc_requests_total', series('Check', 'OK', 'grpc.health.v1.Health'))).toBe(1);
      expect(delta('dcm_grpc_request_duration_seconds_count', series('GetLogicalCloud', 'OK'))).toBe(2);
    });

    it('counts apply and terminate per cluster and logical clouds per state, from the database', async () => {
      const states = (samples: Sample[]) =>
        Object.fromEntries(
          samples.filter((s) => s.name === 'dcm_logical_clouds').map((s) => [s.labels.state, s.value]),
        ) as Record<string, number>;
      const start = await scrape();
      const listed = await t.as(TOKENS.admin).get('/v2/projects/p1/logical-clouds');
      expect(states(start).Created).toBe((listed.body as unknown[]).length);

      expect(
        (
          await team()
            .post('/v2/projects/p1/logical-clouds')
            .send(tenantLogicalCloud(LC, NS, 'user-metrics'))
        ).status,
      ).toBe(201);
      expect(
        (
          await team()
            .post(`${lcPath('p1', LC)}/cluster-references`)
            .send({ name: 'cluster-1' })
        ).status,
      ).toBe(201);
      const created = await scrape();
      expect(states(created).Created).toBe(states(start).Created! + 1);

      const applied = await applyAndSettle({ http: team(), dcm: t.dcm }, 'p1', LC);
      expect(applied.state).toBe('Instantiated');
      const afterApply = await scrape();
      expect(states(afterApply)).toMatchObject({
        Created: states(start).Created,
        Instantiated: states(start).Instantiated! + 1,
      });
      const cluster = { operation: 'apply', provider: 'provider-1', cluster: 'cluster-1', outcome: 'success' };
      expect(
        valueOf(afterApply, 'dcm_lifecycle_cluster_operations_total', cluster) -
          valueOf(start, 'dcm_lifecycle_cluster_operations_total', cluster),
      ).toBe(1);
      expect(valueOf(afterApply, 'dcm_lifecycle_cluster_operation_duration_seconds_count', cluster)).toBe(
        valueOf(afterApply, 'dcm_lifecycle_cluster_operations_total', cluster),
      );
      expect(valueOf(afterApply, 'dcm_lifecycle_operations_total', { operation: 'apply', outcome: 'success' })).toBe(
        valueOf(start, 'dcm_lifecycle_operations_total', { operation: 'apply', outcome: 'success' }) + 1,
      );

      // Another replica on the same database reports the same states.
      const replica = await composeDcm(t.mongo.db(t.databaseName));
      expect(states(await scrape(replica.http))).toEqual(states(afterApply));

      const terminated = await terminateAndSettle({ http: team(), dcm: t.dcm }, 'p1', LC);
      expect(terminated.state).toBe('Terminated');
      const afterTerminate = await scrape();
      expect(states(afterTerminate)).toMatchObject({
        Instantiated: states(start).Instantiated,
        Terminated: states(start).Terminated! + 1,
      });
      const removed = { ...cluster, operation: 'terminate' };
      expect(
        valueOf(afterTerminate, 'dcm_lifecycle_cluster_operations_total', removed) -
          valueOf(afterApply, 'dcm_lifecycle_cluster_operations_total', removed),
      ).toBe(1);
      expect(
        valueOf(afterTerminate, 'dcm_lifecycle_operation_duration_seconds_count', {
          operation: 'terminate',
          outcome: 'success',
        }),
      ).toBe(
        valueOf(afterApply, 'dcm_lifecycle_operation_duration_seconds_count', {
          operation: 'terminate',
          outcome: 'success',
        }) + 1,
      );

      // The apply was audited as team-1's.
      const apply = t.logs.records().filter((r) => r.audit === true && r.route === `${LC_ROUTE}/apply`);
      expect(apply).toEqual([
        expect.objectContaining({
          principal: { name: 'team-1', source: 'token' },
          project: 'p1',
          logicalCloud: LC,
          status: 200,
        }),
      ]);
    });

    it('includes the default process metrics', async () => {
      const names = new Set((await scrape()).map((s) => s.name));
      for (const name of [
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
      ])
        expect(names.has(name)).toBe(true);
    });
  });

  describe('audit', () => {
    it('writes one line per REST mutation with the caller, the route, the names, the status and the request id', async () => {
      const body = design.logicalCloud();
      body.metadata.name = 'lc-audit';
      body.spec.namespace = 'ns-metrics-audit';
      const url = '/v2/projects/p1/logical-clouds';
      expect((await team().post(url).set('X-Request-Id', 'audit-create').send(body)).status).toBe(201);
      expect((await team().post(url).set('X-Request-Id', 'audit-duplicate').send(body)).status).toBe(409);
      expect((await team().post(url).set('X-Request-Id', 'audit-invalid').send({ metadata: {} })).status).toBe(400);
      expect((await team().get(lcPath('p1', 'lc-audit')).set('X-Request-Id', 'audit-read')).status).toBe(200);
      expect((await team().delete(lcPath('p1', 'lc-audit')).set('X-Request-Id', 'audit-delete')).status).toBe(204);
      expect(
        (await team().post('/v2/projects/p2/logical-clouds').set('X-Request-Id', 'audit-denied').send(body)).status,
      ).toBe(403);
      expect((await t.http.delete(lcPath('p1', 'lc-a')).set('X-Request-Id', 'audit-anonymous')).status).toBe(401);

      const common = { name: 'audit', audit: true, level: 30, transport: 'http' };
      const teamOne = { name: 'team-1', source: 'token' };
      expect(auditLines('audit-create')).toEqual([
        expect.objectContaining({
          ...common,
          principal: teamOne,
          method: 'POST',
          route: '/v2/projects/:project/logical-clouds',
          path: url,
          project: 'p1',
          status: 201,
          outcome: 'success',
        }),
      ]);
      expect(auditLines('audit-duplicate')).toEqual([
        expect.objectContaining({
          ...common,
          principal: teamOne,
          method: 'POST',
          project: 'p1',
          status: 409,
          outcome: 'failure',
        }),
      ]);
      expect(auditLines('audit-invalid')).toEqual([
        expect.objectContaining({ ...common, principal: teamOne, status: 400, outcome: 'failure' }),
      ]);
      expect(auditLines('audit-read')).toEqual([]);
      expect(auditLines('audit-delete')).toEqual([
        expect.objectContaining({
          ...common,
          principal: teamOne,
          method: 'DELETE',
          route: LC_ROUTE,
          path: lcPath('p1', 'lc-audit'),
          project: 'p1',
          logicalCloud: 'lc-audit',
          status: 204,
        }),
      ]);
      expect(auditLines('audit-denied')).toEqual([
        expect.objectContaining({
          ...common,
          principal: teamOne,
          method: 'POST',
          project: 'p2',
          status: 403,
          outcome: 'failure',
        }),
      ]);
      expect(auditLines('audit-anonymous')).toEqual([
        expect.objectContaining({ ...common, principal: null, method: 'DELETE', logicalCloud: 'lc-a', status: 401 }),
      ]);
    });

    it('writes one line per mutating RPC with the caller and the gRPC code', async () => {
      const body = design.logicalCloud();
      body.metadata.name = 'lc-grpc-audit';
      body.spec.namespace = 'ns-metrics-grpc-audit';
      const withId = (id: string) => {
        const metadata = bearer(TOKENS.team1);
        metadata.set('x-request-id', id);
        return metadata;
      };
      await g.call('CreateLogicalCloud', { project: 'p1', body: struct(body) }, {}, withId('audit-grpc-create'));
      expect(
        (
          await grpcError(
            g.call('CreateLogicalCloud', { project: 'p1', body: struct(body) }, {}, withId('audit-grpc-duplicate')),
          )
        ).code,
      ).toBe(grpc.status.ALREADY_EXISTS);
      await g.call('GetLogicalCloud', { project: 'p1', name: 'lc-grpc-audit' }, {}, withId('audit-grpc-read'));
      await g.call('DeleteLogicalCloud', { project: 'p1', name: 'lc-grpc-audit' }, {}, withId('audit-grpc-delete'));

      const common = {
        name: 'audit',
        audit: true,
        transport: 'grpc',
        principal: { name: 'team-1', source: 'token' },
        project: 'p1',
      };
      expect(auditLines('audit-grpc-create')).toEqual([
        expect.objectContaining({
          ...common,
          method: 'dcm.v1.LogicalCloudService/CreateLogicalCloud',
          code: 'OK',
          outcome: 'success',
        }),
      ]);
      expect(auditLines('audit-grpc-duplicate')).toEqual([
        expect.objectContaining({ ...common, code: 'ALREADY_EXISTS', outcome: 'failure' }),
      ]);
      expect(auditLines('audit-grpc-read')).toEqual([]);
      expect(auditLines('audit-grpc-delete')).toEqual([
        expect.objectContaining({
          ...common,
          method: 'dcm.v1.LogicalCloudService/DeleteLogicalCloud',
          logicalCloud: 'lc-grpc-audit',
          name: 'lc-grpc-audit',
          code: 'OK',
        }),
      ]);
    });

    it('never writes a token', () => {
      const text = t.logs.text();
      expect(text).toMatch(/"audit":true/);
      for (const token of Object.values(TOKENS)) expect(text).not.toContain(token);
    });
  });
});
