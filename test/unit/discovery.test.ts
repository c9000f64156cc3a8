/**
 * The permission check against a cluster's discovery (issue 4, point 7): a rule naming a
 * resource in a group that does not serve it grants nothing there, and is reported naming
 * the rule, the resource and the group that does serve it. Discovery itself is read from a
 * fake connection in both of the forms servers answer in.
 */
import { describe, expect, it } from '@jest/globals';
import type { ClusterConnection } from '../../src/kubernetes/cluster-connection.js';
import { checkRuleAgainstDiscovery, discoverServedResources, type ServedResources } from '../../src/kubernetes/discovery.js';

/** A small excerpt of what a real cluster serves. */
const served: ServedResources = new Map([
  ['pods', new Set([''])],
  ['pods/log', new Set([''])],
  ['secrets', new Set([''])],
  ['configmaps', new Set([''])],
  ['jobs', new Set(['batch'])],
  ['deployments', new Set(['apps'])],
  ['deployments/scale', new Set(['apps'])],
  ['events', new Set(['', 'events.k8s.io'])],
]);

const check = (apiGroups: string[], resources: string[], permission = 'permission-x') =>
  checkRuleAgainstDiscovery(permission, { apiGroups, resources }, served);

describe('checkRuleAgainstDiscovery', () => {
  it("warns about the design's `jobs` in the core group, naming the rule, the resource and batch", () => {
    expect(check([''], ['jobs'], 'permission-3')).toEqual([
      {
        permission: 'permission-3',
        resource: 'jobs',
        group: '',
        message: 'permission permission-3: resource jobs is not served by group "" (core); it is served by group batch',
      },
    ]);
  });

  it("warns once per resource about the design's permission-1 (core resources in stable.example.com)", () => {
    expect(check(['stable.example.com'], ['secrets', 'pods'], 'permission-1').map((w) => w.message)).toEqual([
      'permission permission-1: resource secrets is not served by group stable.example.com; it is served by group "" (core)',
      'permission permission-1: resource pods is not served by group stable.example.com; it is served by group "" (core)',
    ]);
  });

  it('is silent about wildcards: any group, any resource, a subresource of any resource', () => {
    expect(check(['*'], ['jobs', 'pods', 'widgets'])).toEqual([]);
    expect(check([''], ['*'])).toEqual([]);
    expect(check(['stable.example.com'], ['*'])).toEqual([]);
    expect(check(['apps'], ['*/scale'])).toEqual([]);
  });

  it('is silent about rules that grant what they name, subresources included', () => {
    expect(check([''], ['configmaps', 'pods', 'pods/log', 'secrets'])).toEqual([]);
    expect(check(['batch'], ['jobs'])).toEqual([]);
    expect(check(['apps'], ['deployments', 'deployments/scale'])).toEqual([]);
    expect(check(['events.k8s.io'], ['events'])).toEqual([]);
  });

  it('a resource is granted when any group of the rule serves it', () => {
    expect(check(['', 'batch'], ['jobs', 'pods'])).toEqual([]);
  });

  it('names every group that serves the resource, and says when none does', () => {
    expect(check(['apps'], ['events']).map((w) => w.message)).toEqual([
      'permission permission-x: resource events is not served by group apps; it is served by group "" (core), events.k8s.io',
    ]);
    expect(check(['example.com'], ['widgets'])).toEqual([
      {
        permission: 'permission-x',
        resource: 'widgets',
        group: 'example.com',
        message: 'permission permission-x: resource widgets is not served by group example.com; no API group on this cluster serves it',
      },
    ]);
  });

  it('reports each group of the rule that does not serve the resource', () => {
    expect(check(['stable.example.com', 'other.example.com'], ['pods']).map((w) => w.group)).toEqual(['stable.example.com', 'other.example.com']);
  });
});

describe('discoverServedResources', () => {
  const connection = (answers: Record<string, unknown>): { connection: ClusterConnection; asked: string[] } => {
    const asked: string[] = [];
    const getJson = async <T>(path: string): Promise<T> => {
      asked.push(path);
      if (!(path in answers)) throw new Error(`unexpected GET ${path}`);
      return answers[path] as T;
    };
    return { connection: { getJson } as unknown as ClusterConnection, asked };
  };
  const asObject = (map: ServedResources) => Object.fromEntries([...map].map(([resource, groups]) => [resource, [...groups].sort()]));

  it('reads aggregated discovery: two requests, subresources included, the core group as ""', async () => {
    const { connection: c, asked } = connection({
      '/api': {
        kind: 'APIGroupDiscoveryList',
        items: [{ metadata: {}, versions: [{ version: 'v1', resources: [{ resource: 'pods', subresources: [{ subresource: 'log' }] }, { resource: 'events' }] }] }],
      },
      '/apis': {
        kind: 'APIGroupDiscoveryList',
        items: [
          { metadata: { name: 'batch' }, versions: [{ version: 'v1', resources: [{ resource: 'jobs' }, { resource: 'cronjobs' }] }] },
          { metadata: { name: 'events.k8s.io' }, versions: [{ version: 'v1', resources: [{ resource: 'events' }] }] },
        ],
      },
    });
    expect(asObject(await discoverServedResources(c))).toEqual({
      pods: [''],
      'pods/log': [''],
      events: ['', 'events.k8s.io'],
      jobs: ['batch'],
      cronjobs: ['batch'],
    });
    expect(asked.sort()).toEqual(['/api', '/apis']);
  });

  it('falls back to per-group discovery on servers without the aggregated form', async () => {
    const { connection: c } = connection({
      '/api': { kind: 'APIVersions', versions: ['v1'] },
      '/apis': { kind: 'APIGroupList', groups: [{ name: 'batch', preferredVersion: { groupVersion: 'batch/v1' } }, { name: 'apps', preferredVersion: { groupVersion: 'apps/v1' } }] },
      '/api/v1': { resources: [{ name: 'pods' }, { name: 'pods/log' }, { name: 'configmaps' }] },
      '/apis/batch/v1': { resources: [{ name: 'jobs' }] },
      '/apis/apps/v1': { resources: [{ name: 'deployments' }, { name: 'deployments/scale' }] },
    });
    const discovered = await discoverServedResources(c);
    expect(asObject(discovered)).toEqual({
      pods: [''],
      'pods/log': [''],
      configmaps: [''],
      jobs: ['batch'],
      deployments: ['apps'],
      'deployments/scale': ['apps'],
    });
    expect(checkRuleAgainstDiscovery('permission-3', { apiGroups: [''], resources: ['jobs'] }, discovered)[0]?.message).toMatch(/it is served by group batch$/);
  });
});
