/**
 * The authorization rules (src/auth/authorize.ts) and how each API names an action: REST
 * paths (httpAction) and gRPC methods (grpcAction) must land on the same rule.
 */
import { describe, expect, it } from '@jest/globals';
import { authorize, DEVELOPMENT_PRINCIPAL, type Action, type Principal } from '../../src/auth/authorize.js';
import { grpcAction } from '../../src/auth/grpc.js';
import { httpAction } from '../../src/auth/http.js';

const principal = (p: Partial<Principal>): Principal => ({
  name: 'x',
  source: 'token',
  admin: false,
  projects: new Set(),
  logicalClouds: new Set(),
  ...p,
});
const admin = principal({ name: 'root', admin: true });
const owner = principal({ name: 'team-1', projects: new Set(['p1', 'p3']) });
const tenant = principal({ name: 'tenant-1', logicalClouds: new Set(['p1/lc-1']) });
const nobody = principal({ name: 'nobody' });

const allowed = (who: Principal, action: Action) => authorize(who, action).allowed;
const lc = (
  project: string,
  logicalCloud: string,
  operation: 'read' | 'write' | 'lifecycle' | 'status' | 'kubeconfig',
): Action => ({
  resource: 'logical-cloud',
  project,
  logicalCloud,
  operation,
});

describe('authorize', () => {
  const every: Action[] = [
    { resource: 'cluster-registry', operation: 'read' },
    { resource: 'cluster-registry', operation: 'write' },
    { resource: 'projects', operation: 'read' },
    { resource: 'projects', operation: 'write' },
    { resource: 'project', project: 'p2', operation: 'write' },
    { resource: 'logical-clouds', project: 'p2', operation: 'write' },
    lc('p2', 'lc-9', 'lifecycle'),
    lc('p2', 'lc-9', 'kubeconfig'),
    { resource: 'unknown', description: 'PATCH /v2/whatever' },
  ];

  it('lets an admin (and the development principal) do everything', () => {
    for (const action of every) {
      expect({ action, allowed: allowed(admin, action) }).toEqual({ action, allowed: true });
      expect({ action, allowed: allowed(DEVELOPMENT_PRINCIPAL, action) }).toEqual({ action, allowed: true });
    }
  });

  it('lets a project caller manage its projects’ logical clouds, everything under them included', () => {
    for (const op of ['read', 'write', 'lifecycle', 'status', 'kubeconfig'] as const) {
      expect(allowed(owner, lc('p1', 'any', op))).toBe(true);
      expect(allowed(owner, lc('p3', 'any', op))).toBe(true);
    }
    expect(allowed(owner, { resource: 'logical-clouds', project: 'p1', operation: 'write' })).toBe(true);
    expect(allowed(owner, { resource: 'logical-clouds', project: 'p1', operation: 'read' })).toBe(true);
  });

  it('denies a project caller other projects, whatever the operation', () => {
    for (const op of ['read', 'write', 'lifecycle', 'status', 'kubeconfig'] as const)
      expect(allowed(owner, lc('p2', 'lc-1', op))).toBe(false);
    expect(allowed(owner, { resource: 'logical-clouds', project: 'p2', operation: 'read' })).toBe(false);
    expect(allowed(owner, { resource: 'project', project: 'p2', operation: 'read' })).toBe(false);
    expect(authorize(owner, lc('p2', 'lc-1', 'read'))).toEqual({
      allowed: false,
      reason: 'team-1 may not read logical cloud p2/lc-1',
    });
  });

  it('lets a project caller read, not change, its projects and the cluster registry; creating projects is admin-only', () => {
    expect(allowed(owner, { resource: 'project', project: 'p1', operation: 'read' })).toBe(true);
    expect(authorize(owner, { resource: 'project', project: 'p1', operation: 'write' })).toEqual({
      allowed: false,
      reason: 'team-1 may not change project p1 (admin only)',
    });
    expect(allowed(owner, { resource: 'projects', operation: 'read' })).toBe(true);
    expect(allowed(owner, { resource: 'projects', operation: 'write' })).toBe(false);
    expect(allowed(owner, { resource: 'cluster-registry', operation: 'read' })).toBe(true);
    expect(authorize(owner, { resource: 'cluster-registry', operation: 'write' })).toEqual({
      allowed: false,
      reason: 'team-1 may not change the cluster registry (admin only)',
    });
    expect(allowed(owner, { resource: 'unknown', description: 'GET /v2/other' })).toBe(false);
  });

  it("lets a project caller read, not set, its projects' policies; admins set them", () => {
    expect(allowed(owner, { resource: 'project-policy', project: 'p1', operation: 'read' })).toBe(true);
    expect(authorize(owner, { resource: 'project-policy', project: 'p1', operation: 'write' })).toEqual({
      allowed: false,
      reason: 'team-1 may not change the policy of project p1 (admin only)',
    });
    expect(allowed(owner, { resource: 'project-policy', project: 'p2', operation: 'read' })).toBe(false);
    expect(allowed(tenant, { resource: 'project-policy', project: 'p1', operation: 'read' })).toBe(false);
    expect(allowed(admin, { resource: 'project-policy', project: 'p2', operation: 'write' })).toBe(true);
  });

  it('lets a tenant only read the status and kubeconfig of its own logical cloud', () => {
    expect(allowed(tenant, lc('p1', 'lc-1', 'kubeconfig'))).toBe(true);
    expect(allowed(tenant, lc('p1', 'lc-1', 'status'))).toBe(true);
    for (const op of ['read', 'write', 'lifecycle'] as const) expect(allowed(tenant, lc('p1', 'lc-1', op))).toBe(false);
    expect(allowed(tenant, lc('p1', 'lc-2', 'kubeconfig'))).toBe(false);
    expect(allowed(tenant, lc('p2', 'lc-1', 'kubeconfig'))).toBe(false);
    for (const action of every.filter((a) => a.resource !== 'logical-cloud'))
      expect(allowed(tenant, action)).toBe(false);
    expect(allowed(tenant, { resource: 'project', project: 'p1', operation: 'read' })).toBe(false);
  });

  it('lets every caller with some scope read the root certificate (public, no key)', () => {
    for (const who of [admin, owner, tenant])
      expect(allowed(who, { resource: 'ca-root', operation: 'read' })).toBe(true);
  });

  it('denies a caller without any scope everything', () => {
    for (const action of [...every, lc('p1', 'lc-1', 'status'), { resource: 'ca-root', operation: 'read' } as const])
      expect(allowed(nobody, action)).toBe(false);
  });
});

describe('httpAction: what a REST request does', () => {
  it.each([
    ['GET', '/cluster-providers', { resource: 'cluster-registry', operation: 'read' }],
    ['HEAD', '/cluster-providers/edge/clusters/c1', { resource: 'cluster-registry', operation: 'read' }],
    ['POST', '/cluster-providers/edge/clusters', { resource: 'cluster-registry', operation: 'write' }],
    ['GET', '/projects', { resource: 'projects', operation: 'read' }],
    ['POST', '/projects/', { resource: 'projects', operation: 'write' }],
    ['GET', '/projects/p1', { resource: 'project', project: 'p1', operation: 'read' }],
    ['DELETE', '/projects/p1', { resource: 'project', project: 'p1', operation: 'write' }],
    ['POST', '/projects/p1/logical-clouds', { resource: 'logical-clouds', project: 'p1', operation: 'write' }],
    ['GET', '/projects/p1/logical-clouds/lc-1', lc('p1', 'lc-1', 'read')],
    ['PUT', '/projects/p1/logical-clouds/lc-1/user-permissions/perm', lc('p1', 'lc-1', 'write')],
    ['POST', '/projects/p1/logical-clouds/lc-1/apply', lc('p1', 'lc-1', 'lifecycle')],
    ['POST', '/projects/p1/logical-clouds/lc-1/terminate', lc('p1', 'lc-1', 'lifecycle')],
    ['POST', '/projects/p1/logical-clouds/lc-1/instantiate', lc('p1', 'lc-1', 'lifecycle')],
    ['GET', '/projects/p1/logical-clouds/lc-1/status', lc('p1', 'lc-1', 'status')],
    ['GET', '/projects/p1/logical-clouds/lc-1/kubeconfig', lc('p1', 'lc-1', 'kubeconfig')],
    ['GET', '/projects/p1/logical-clouds/lc-1/cluster-references/ref-1/kubeconfig', lc('p1', 'lc-1', 'kubeconfig')],
    // A GET of a cluster reference named "kubeconfig" is a read, not a kubeconfig download.
    ['GET', '/projects/p1/logical-clouds/lc-1/cluster-references/kubeconfig', lc('p1', 'lc-1', 'read')],
    ['POST', '/projects/p1/logical-clouds/lc-1/status', lc('p1', 'lc-1', 'write')],
    // The router matches literal segments in any case and decodes parameters: so does the guard.
    ['GET', '/Projects/p%201/Logical-Clouds/lc-1/Status', lc('p 1', 'lc-1', 'status')],
    ['GET', '/projects/p1/other', { resource: 'unknown', description: 'GET /v2/projects/p1/other' }],
    ['GET', '/nothing', { resource: 'unknown', description: 'GET /v2/nothing' }],
    ['GET', '/ca/root', { resource: 'ca-root', operation: 'read' }],
    ['POST', '/ca/root', { resource: 'unknown', description: 'POST /v2/ca/root' }],
    ['GET', '/projects/p1/logical-clouds/lc-1/ca', lc('p1', 'lc-1', 'read')],
    ['POST', '/projects/p1/logical-clouds/lc-1/rotate-ca', lc('p1', 'lc-1', 'lifecycle')],
    ['POST', '/projects/p1/logical-clouds/lc-1/revoke-credentials', lc('p1', 'lc-1', 'lifecycle')],
    ['POST', '/projects/p1/logical-clouds/lc-1/stop', lc('p1', 'lc-1', 'lifecycle')],
    ['GET', '/projects/p1/policy', { resource: 'project-policy', project: 'p1', operation: 'read' }],
    ['PUT', '/projects/p1/policy', { resource: 'project-policy', project: 'p1', operation: 'write' }],
    ['DELETE', '/projects/p1/policy', { resource: 'project-policy', project: 'p1', operation: 'write' }],
    ['GET', '/projects/%E0%A4%A', { resource: 'unknown', description: 'GET /v2/projects/%E0%A4%A' }],
  ] as const)('%s %s', (method, path, expected) => {
    expect(httpAction(method, path)).toEqual(expected);
  });
});

describe('grpcAction: what an RPC does', () => {
  const ref = { project: 'p1', logical_cloud: 'lc-1' };
  it.each([
    [
      'CreateLogicalCloud',
      { project: 'p1', body: {} },
      { resource: 'logical-clouds', project: 'p1', operation: 'write' },
    ],
    ['ListLogicalClouds', { project: 'p1' }, { resource: 'logical-clouds', project: 'p1', operation: 'read' }],
    ['GetLogicalCloud', { project: 'p1', name: 'lc-1' }, lc('p1', 'lc-1', 'read')],
    ['DeleteLogicalCloud', { project: 'p1', name: 'lc-1' }, lc('p1', 'lc-1', 'write')],
    ['CreateClusterReference', ref, lc('p1', 'lc-1', 'write')],
    ['ListKvPairs', ref, lc('p1', 'lc-1', 'read')],
    ['UpdateUserPermission', { ...ref, name: 'perm' }, lc('p1', 'lc-1', 'write')],
    ['GetClusterQuota', { ...ref, name: 'q' }, lc('p1', 'lc-1', 'read')],
    ['Apply', ref, lc('p1', 'lc-1', 'lifecycle')],
    ['Terminate', ref, lc('p1', 'lc-1', 'lifecycle')],
    ['GetStatus', ref, lc('p1', 'lc-1', 'status')],
    ['WatchStatus', ref, lc('p1', 'lc-1', 'status')],
    ['GetKubeconfig', { ...ref, cluster_reference: 'c1' }, lc('p1', 'lc-1', 'kubeconfig')],
    ['GetRootCa', {}, { resource: 'ca-root', operation: 'read' }],
    ['GetLogicalCloudCa', ref, lc('p1', 'lc-1', 'read')],
    ['RotateCa', { ...ref, cluster_reference: '' }, lc('p1', 'lc-1', 'lifecycle')],
    ['RevokeCredentials', ref, lc('p1', 'lc-1', 'lifecycle')],
    [
      'GetClusterStatus',
      { cluster_provider: 'edge', cluster: 'c1' },
      { resource: 'cluster-registry', operation: 'read' },
    ],
    ['GetProjectPolicy', { project: 'p1' }, { resource: 'project-policy', project: 'p1', operation: 'read' }],
    [
      'SetProjectPolicy',
      { project: 'p1', body: {} },
      { resource: 'project-policy', project: 'p1', operation: 'write' },
    ],
    ['ResetProjectPolicy', { project: 'p1' }, { resource: 'project-policy', project: 'p1', operation: 'write' }],
    ['Frobnicate', ref, { resource: 'unknown', description: 'call dcm.v1.LogicalCloudService/Frobnicate' }],
  ] as const)('%s', (method, request, expected) => {
    expect(grpcAction(method, request)).toEqual(expected);
  });

  it('names the same rule as the REST path of the same operation', () => {
    expect(grpcAction('GetKubeconfig', ref)).toEqual(httpAction('GET', '/projects/p1/logical-clouds/lc-1/kubeconfig'));
    expect(grpcAction('Apply', ref)).toEqual(httpAction('POST', '/projects/p1/logical-clouds/lc-1/apply'));
    expect(grpcAction('CreateLogicalCloud', { project: 'p1' })).toEqual(
      httpAction('POST', '/projects/p1/logical-clouds'),
    );
    expect(grpcAction('DeleteKvPair', { ...ref, name: 'kv' })).toEqual(
      httpAction('DELETE', '/projects/p1/logical-clouds/lc-1/kv-pairs/kv'),
    );
    expect(grpcAction('RotateCa', ref)).toEqual(httpAction('POST', '/projects/p1/logical-clouds/lc-1/rotate-ca'));
    expect(grpcAction('GetRootCa', {})).toEqual(httpAction('GET', '/ca/root'));
    expect(grpcAction('RevokeCredentials', ref)).toEqual(
      httpAction('POST', '/projects/p1/logical-clouds/lc-1/revoke-credentials'),
    );
    expect(grpcAction('SetProjectPolicy', { project: 'p1' })).toEqual(httpAction('PUT', '/projects/p1/policy'));
  });
});
