/**
 * The permission check against a cluster's discovery (issue 4, point 7): a rule naming a
 * resource in a group that does not serve it grants nothing there, and is reported naming
 * the rule, the resource and the group that does serve it. Discovery itself is read from a
 * fake connection in both of the forms servers answer in.
 */
import { describe, expect, it } from '@jest/globals';
import type { ClusterGateway } from '../../src/kubernetes/cluster-gateway.js';
import {
  checkRuleAgainstDiscovery,
  checkRulesAgainstDiscovery,
  discoverServedResources,
  omittedWarnings,
  type ServedResources,
} from '../../src/kubernetes/discovery.js';
import { LIMITS } from '../../src/validation/limits.js';

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
        message:
          'permission permission-x: resource widgets is not served by group example.com; no API group on this cluster serves it',
      },
    ]);
  });

  it('reports each group of the rule that does not serve the resource', () => {
    expect(check(['stable.example.com', 'other.example.com'], ['pods']).map((w) => w.group)).toEqual([
      'stable.example.com',
      'other.example.com',
    ]);
  });
});

/**
 * Issue 14 item 2: a rule of 40,000 API groups used to take ~11 s (every group compared with every
 * group). The check is now linear, and proven so by counting what it reads, never by timing it:
 * every element of the rule, every lookup in discovery and every serving group it walks.
 */
describe('checkRuleAgainstDiscovery on huge rules: linear work, bounded output', () => {
  interface Counter {
    reads: number;
  }

  /** An array whose element reads are counted. */
  const counted = (items: string[], counter: Counter): string[] =>
    new Proxy(items, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) counter.reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });

  /** Discovery whose lookups, membership tests and walks over serving groups are counted. */
  const countedServed = (entries: [string, string[]][], counter: Counter): ServedResources => {
    class CountingSet extends Set<string> {
      override has(value: string): boolean {
        counter.reads++;
        return super.has(value);
      }
      override *[Symbol.iterator](): SetIterator<string> {
        for (const value of super.values()) {
          counter.reads++;
          yield value;
        }
      }
    }
    class CountingMap extends Map<string, Set<string>> {
      override get(key: string): Set<string> | undefined {
        counter.reads++;
        return super.get(key);
      }
    }
    return new CountingMap(entries.map(([resource, groups]) => [resource, new CountingSet(groups)]));
  };

  const manyGroups = (n: number): string[] => Array.from({ length: n }, (_, i) => `group-${i}.example.com`);

  it('checks a rule of 40,000 groups reading each group a bounded number of times, and keeps 20 warnings', () => {
    const counter: Counter = { reads: 0 };
    const apiGroups = counted(manyGroups(40_000), counter);
    const resources = counted(['pods', 'jobs', 'widgets'], counter);
    const served = countedServed(
      [
        ['pods', ['']],
        ['jobs', ['batch']],
        ['events', ['', 'events.k8s.io']],
      ],
      counter,
    );

    const { warnings, omitted } = checkRulesAgainstDiscovery(
      [{ name: 'huge', rule: { apiGroups, resources } }],
      served,
    );

    expect(warnings).toHaveLength(LIMITS.statusWarnings);
    expect(omitted).toBe(3 * 40_000 - LIMITS.statusWarnings);
    expect(warnings[0]?.message).toBe(
      'permission huge: resource pods is not served by group group-0.example.com; it is served by group "" (core)',
    );
    // Linear: a few reads per group and per resource (the quadratic check read 40,000² = 1.6e9).
    expect(counter.reads).toBeLessThanOrEqual(2 * (apiGroups.length + resources.length) + 100);
  });

  it('the work grows linearly with the rule: 4 times the groups, at most 4 times the reads', () => {
    const readsFor = (n: number) => {
      const counter: Counter = { reads: 0 };
      const served = countedServed(
        [
          ['pods', ['']],
          ['jobs', ['batch']],
        ],
        counter,
      );
      checkRuleAgainstDiscovery(
        'p',
        { apiGroups: counted(manyGroups(n), counter), resources: counted(['pods', 'jobs'], counter) },
        served,
      );
      return counter.reads;
    };
    expect(readsFor(40_000)).toBeLessThanOrEqual(4 * readsFor(10_000));
  });

  it('a huge rule that grants what it names is checked as cheaply, without a warning', () => {
    const counter: Counter = { reads: 0 };
    const apiGroups = counted([...manyGroups(40_000), ''], counter);
    const resources = counted(
      Array.from({ length: 100 }, () => 'pods'),
      counter,
    );
    const served = countedServed([['pods', ['']]], counter);
    expect(checkRuleAgainstDiscovery('p', { apiGroups, resources }, served)).toEqual([]);
    expect(counter.reads).toBeLessThanOrEqual(2 * (apiGroups.length + resources.length) + 100);
  });

  it('a resource served by many groups: many resources × many groups stay bounded, each message too', () => {
    // 350 resources × 350 groups made a 24 MB status document; now 20 warnings and a count.
    const groups = manyGroups(350);
    const resources = Array.from({ length: 350 }, (_, i) => `widgets${i}`);
    const served: ServedResources = new Map(
      resources.map((r) => [r, new Set(Array.from({ length: 1000 }, (_, i) => `served-${i}.example.com`))]),
    );
    const { warnings, omitted } = checkRulesAgainstDiscovery(
      [{ name: 'wide', rule: { apiGroups: groups, resources } }],
      served,
    );
    expect(warnings).toHaveLength(LIMITS.statusWarnings);
    expect(omitted).toBe(350 * 350 - LIMITS.statusWarnings);
    expect(warnings[0]?.message).toMatch(
      /it is served by group served-0\.example\.com, served-1\.example\.com, served-2\.example\.com, served-3\.example\.com, served-4\.example\.com and 995 more$/,
    );
  });

  it('counts the limit across all permissions of the logical cloud', () => {
    const rule = { apiGroups: ['example.com'], resources: ['pods', 'secrets'] };
    const permissions = Array.from({ length: 30 }, (_, i) => ({ name: `p${i}`, rule }));
    const { warnings, omitted } = checkRulesAgainstDiscovery(permissions, served, 25);
    expect(warnings.map((w) => w.permission)).toHaveLength(25);
    expect(warnings.at(-1)?.permission).toBe('p12');
    expect(omitted).toBe(60 - 25);
    expect(omittedWarnings(omitted)).toMatchObject({
      omitted: 35,
      message: '35 more warnings about permissions not listed',
    });
  });

  it('names a group or a resource listed twice once', () => {
    expect(check(['example.com', 'example.com'], ['pods', 'pods']).map((w) => w.group)).toEqual(['example.com']);
  });
});

describe('discoverServedResources', () => {
  const connection = (answers: Record<string, unknown>): { connection: ClusterGateway; asked: string[] } => {
    const asked: string[] = [];
    const getJson = async <T>(path: string): Promise<T> => {
      asked.push(path);
      if (!(path in answers)) throw new Error(`unexpected GET ${path}`);
      return answers[path] as T;
    };
    return { connection: { getJson } as unknown as ClusterGateway, asked };
  };
  const asObject = (map: ServedResources) =>
    Object.fromEntries([...map].map(([resource, groups]) => [resource, [...groups].sort()]));

  it('reads aggregated discovery: two requests, subresources included, the core group as ""', async () => {
    const { connection: c, asked } = connection({
      '/api': {
        kind: 'APIGroupDiscoveryList',
        items: [
          {
            metadata: {},
            versions: [
              {
                version: 'v1',
                resources: [{ resource: 'pods', subresources: [{ subresource: 'log' }] }, { resource: 'events' }],
              },
            ],
          },
        ],
      },
      '/apis': {
        kind: 'APIGroupDiscoveryList',
        items: [
          {
            metadata: { name: 'batch' },
            versions: [{ version: 'v1', resources: [{ resource: 'jobs' }, { resource: 'cronjobs' }] }],
          },
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
      '/apis': {
        kind: 'APIGroupList',
        groups: [
          { name: 'batch', preferredVersion: { groupVersion: 'batch/v1' } },
          { name: 'apps', preferredVersion: { groupVersion: 'apps/v1' } },
        ],
      },
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
    expect(
      checkRuleAgainstDiscovery('permission-3', { apiGroups: [''], resources: ['jobs'] }, discovered)[0]?.message,
    ).toMatch(/it is served by group batch$/);
  });
});
