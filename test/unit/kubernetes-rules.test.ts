import { describe, it, expect } from '@jest/globals';
import type { z } from 'zod';
import { dns1123Label, dns1123Subdomain } from '../../src/validation/kubernetes-names.js';
import { KUBERNETES_USER_NAME_MAX_LENGTH, kubernetesUserName } from '../../src/validation/kubernetes-user-name.js';
import { labelMap } from '../../src/validation/labels.js';
import { isQuantity, nonNegativeQuantity, parseQuantity } from '../../src/validation/quantity.js';
import { isQuotaKey, normalizeQuotaKey, quotaKey } from '../../src/validation/quota-key.js';
import { quotaSpec } from '../../src/validation/quota-spec.js';
import { KUBERNETES_VERBS, apiGroup, rbacResource, verb } from '../../src/validation/rbac-rules.js';
import { description, resourceName, userData } from '../../src/validation/record-metadata.js';
import { LIMITS } from '../../src/validation/limits.js';

/** The issues of a failed parse as `path: message` lines, the way a caller would report them. */
function issuesOf(schema: z.ZodType, input: unknown, prefix = ''): string[] {
  const result = schema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

function accepts(schema: z.ZodType, input: unknown): boolean {
  return schema.safeParse(input).success;
}

describe('resourceName', () => {
  it.each(['a', 'Z9', 'my-cloud', 'lc_1.prod', 'A'.repeat(128)])('accepts %j', (name) => {
    expect(accepts(resourceName, name)).toBe(true);
  });

  it.each(['', '-a', 'a-', '_a', 'a.', 'has space', 'ünï', 'a/b', 'A'.repeat(129)])('rejects %j', (name) => {
    expect(accepts(resourceName, name)).toBe(false);
  });

  it('is required, and its message states the rule', () => {
    expect(issuesOf(resourceName, undefined)[0]).toMatch(/name is required/);
    expect(issuesOf(resourceName, 'a-')[0]).toMatch(/1-128 characters.*starting and ending with a letter or digit/);
  });
});

describe('description and userData', () => {
  it('are optional and length-limited', () => {
    expect(accepts(description, undefined)).toBe(true);
    expect(accepts(description, 'x'.repeat(1024))).toBe(true);
    expect(issuesOf(description, 'x'.repeat(1025))).toEqual(['description must be at most 1024 characters']);
    expect(accepts(userData, undefined)).toBe(true);
    expect(accepts(userData, 'x'.repeat(512))).toBe(true);
    expect(accepts(userData, 'x'.repeat(513))).toBe(false);
  });
});

describe('dns1123Label', () => {
  it.each(['a', 'ns-1', '0', 'a'.repeat(63)])('accepts %j', (s) => {
    expect(accepts(dns1123Label, s)).toBe(true);
  });

  it.each(['', 'Ns', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64)])('rejects %j', (s) => {
    expect(accepts(dns1123Label, s)).toBe(false);
  });
});

describe('dns1123Subdomain', () => {
  it('accepts dotted labels and rejects bad ones', () => {
    expect(accepts(dns1123Subdomain, 'example.com')).toBe(true);
    expect(accepts(dns1123Subdomain, 'example..com')).toBe(false);
    expect(accepts(dns1123Subdomain, `${'a'.repeat(63)}.`.repeat(4) + 'a')).toBe(false); // 257 characters
  });
});

describe('kubernetesUserName', () => {
  it.each(['alice', 'Alice Smith', 'alice@example.com', 'dev:alice', 'x'.repeat(KUBERNETES_USER_NAME_MAX_LENGTH)])(
    'accepts %j',
    (name) => {
      expect(accepts(kubernetesUserName, name)).toBe(true);
    },
  );

  it.each([
    ['', /required/],
    ['x'.repeat(KUBERNETES_USER_NAME_MAX_LENGTH + 1), /at most 64/],
    [' alice', /whitespace/],
    ['alice\t', /whitespace/],
    ['ali\u0000ce', /printable/],
    ['ali\u200bce', /printable/],
    ['system:admin', /system:/],
    ['system:serviceaccount:default:x', /system:/],
    ['a/b', /special in certificate/],
    ['alice,O=system:masters', /special in certificate/],
    ['a=b', /special in certificate/],
    ['a+b', /special in certificate/],
    ['#alice', /"#"/],
  ])('rejects %j', (name, message) => {
    const issues = issuesOf(kubernetesUserName, name);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.join('\n')).toMatch(message);
  });
});

describe('verb', () => {
  it('accepts every Kubernetes verb', () => {
    for (const v of KUBERNETES_VERBS) expect(accepts(verb, v)).toBe(true);
    expect(KUBERNETES_VERBS).toEqual(expect.arrayContaining(['deletecollection', 'impersonate', 'escalate', '*']));
  });

  it('rejects others, listing the allowed verbs', () => {
    expect(issuesOf(verb, 'GET')[0]).toMatch(/verb must be one of get, list, watch, .*sign, \*/);
    expect(accepts(verb, 'read')).toBe(false);
  });
});

describe('apiGroup', () => {
  it.each(['', '*', 'apps', 'rbac.authorization.k8s.io', 'example.com'])('accepts %j', (g) => {
    expect(accepts(apiGroup, g)).toBe(true);
  });

  it.each(['Apps', 'apps/v1', ' ', '**', 'a_b'])('rejects %j', (g) => {
    expect(accepts(apiGroup, g)).toBe(false);
  });
});

describe('rbacResource', () => {
  it.each(['*', 'pods', 'pods/log', 'deployments/scale', '*/scale', 'custom-widgets'])('accepts %j', (r) => {
    expect(accepts(rbacResource, r)).toBe(true);
  });

  it.each(['', 'Pods', 'pods/', '/log', 'pods/log/x', 'pods/*', 'deployments.apps', 'po ds', '**'])(
    'rejects %j',
    (r) => {
      expect(accepts(rbacResource, r)).toBe(false);
    },
  );
});

describe('parseQuantity', () => {
  it.each([
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1.', 1],
    ['+1', 1],
    ['-1', -1],
    ['0', 0],
    ['500m', 0.5],
    ['100u', 0.0001],
    ['5n', 5e-9],
    ['1.1k', 1100],
    ['2M', 2e6],
    ['4G', 4e9],
    ['1E', 1e18],
    ['1Ki', 1024],
    ['1.5Ki', 1536],
    ['1000Gi', 1000 * 2 ** 30],
    ['1Ei', 2 ** 60],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['2.5e+2', 250],
  ])('%j is %d', (s, value) => {
    expect(parseQuantity(s)).toBeCloseTo(value, 12);
    expect(isQuantity(s)).toBe(true);
  });

  it.each([
    '',
    'lots',
    '1.2.3',
    '10 Gi',
    ' 1',
    '1 ',
    'Gi',
    '.',
    '+',
    '1ki',
    '1K',
    '1e',
    '1e1.5',
    '1Gi1',
    '--1',
    '1mi',
    '0x10',
  ])('rejects %j', (s) => {
    expect(parseQuantity(s)).toBeUndefined();
    expect(isQuantity(s)).toBe(false);
  });
});

describe('nonNegativeQuantity', () => {
  it('accepts zero and positive quantities', () => {
    expect(accepts(nonNegativeQuantity, '0')).toBe(true);
    expect(accepts(nonNegativeQuantity, '500m')).toBe(true);
    expect(accepts(nonNegativeQuantity, '1e3')).toBe(true);
  });

  it('rejects negative and malformed quantities', () => {
    expect(issuesOf(nonNegativeQuantity, '-1')).toEqual(['"-1" must not be negative']);
    expect(issuesOf(nonNegativeQuantity, 'lots')[0]).toMatch(/^"lots" is not a Kubernetes quantity/);
  });
});

describe('normalizeQuotaKey', () => {
  it('maps the short keys to their requests. form', () => {
    expect(normalizeQuotaKey('cpu')).toBe('requests.cpu');
    expect(normalizeQuotaKey('memory')).toBe('requests.memory');
    expect(normalizeQuotaKey('ephemeral-storage')).toBe('requests.ephemeral-storage');
  });

  it('leaves other keys alone', () => {
    expect(normalizeQuotaKey('limits.cpu')).toBe('limits.cpu');
    expect(normalizeQuotaKey('pods')).toBe('pods');
    expect(normalizeQuotaKey('cpus')).toBe('cpus');
  });
});

describe('quotaKey', () => {
  it.each([
    'cpu',
    'memory',
    'ephemeral-storage',
    'requests.cpu',
    'requests.memory',
    'limits.cpu',
    'limits.memory',
    'requests.storage',
    'requests.ephemeral-storage',
    'limits.ephemeral-storage',
    'persistentvolumeclaims',
    'pods',
    'services',
    'services.loadbalancers',
    'services.nodeports',
    'secrets',
    'configmaps',
    'replicationcontrollers',
    'resourcequotas',
    'gold.storageclass.storage.k8s.io/requests.storage',
    'fast-ssd.storageclass.storage.k8s.io/persistentvolumeclaims',
    'requests.nvidia.com/gpu',
    'requests.example.com/foo_bar.baz',
    'requests.hugepages-2Mi',
    'limits.hugepages-1Gi',
    'count/pods',
    'count/deployments.apps',
    'count/jobs.batch',
    'count/widgets.example.com',
    `count/${'a'.repeat(63)}`,
    `${'a'.repeat(225)}.storageclass.storage.k8s.io/requests.storage`,
  ])('accepts %j', (key) => {
    expect(accepts(quotaKey, key)).toBe(true);
    expect(isQuotaKey(key)).toBe(true);
  });

  it.each([
    '',
    'foo',
    'cpus',
    'CPU',
    'limits.pods',
    'limits.storage',
    'requests.pods',
    'count/',
    'count/Pods',
    'count/pods/log',
    'count/.apps',
    'nvidia.com/gpu',
    'limits.nvidia.com/gpu',
    'requests.nvidia.com/',
    'requests.kubernetes.io/foo',
    'requests.node.kubernetes.io/foo',
    'requests.hugepages-',
    'requests.hugepages-lots',
    'requests.hugepages-0',
    'Gold.storageclass.storage.k8s.io/requests.storage',
    '.storageclass.storage.k8s.io/requests.storage',
    'gold.storageclass.storage.k8s.io/limits.storage',
    'requests.cpu ',
    // the API server reads a quota key as a qualified name: name part <= 63, prefix <= 253
    `count/${'a'.repeat(64)}`,
    `count/${'a'.repeat(40)}.${'b'.repeat(30)}`,
    `${'a'.repeat(226)}.storageclass.storage.k8s.io/requests.storage`,
  ])('rejects %j', (key) => {
    expect(accepts(quotaKey, key)).toBe(false);
    expect(isQuotaKey(key)).toBe(false);
  });

  it('names the key in its message', () => {
    expect(issuesOf(quotaKey, 'cpus')[0]).toMatch(/^"cpus" is not a ResourceQuota key/);
  });
});

describe('quotaSpec', () => {
  it('accepts a realistic spec and keeps keys as given', () => {
    const spec = {
      cpu: '4',
      memory: '1000Gi',
      'limits.cpu': '8000m',
      'requests.nvidia.com/gpu': '2',
      'count/deployments.apps': '10',
      pods: '1e3',
      'gold.storageclass.storage.k8s.io/requests.storage': '500Gi',
      'gold.storageclass.storage.k8s.io/persistentvolumeclaims': '5',
    };
    const result = quotaSpec.safeParse(spec);
    expect(result.success).toBe(true);
    expect(result.data).toEqual(spec);
  });

  it('reports a bad quantity at the key', () => {
    expect(issuesOf(quotaSpec, { cpu: '2', memory: 'lots' }, 'spec')).toEqual([
      expect.stringMatching(/^spec\.memory: "lots" is not a Kubernetes quantity/),
    ]);
  });

  it('reports an unknown key at the key', () => {
    expect(issuesOf(quotaSpec, { cpus: '2' }, 'spec')).toEqual([
      expect.stringMatching(/^spec\.cpus: "cpus" is not a ResourceQuota key/),
    ]);
  });

  it('rejects negative quantities', () => {
    expect(issuesOf(quotaSpec, { 'limits.memory': '-1Gi' }, 'spec')).toEqual([
      'spec.limits.memory: "-1Gi" must not be negative',
    ]);
  });

  it('requires whole numbers for object counts', () => {
    expect(issuesOf(quotaSpec, { pods: '1.5' }, 'spec')).toEqual([
      'spec.pods: "1.5" must be a whole number (pods counts objects)',
    ]);
    expect(accepts(quotaSpec, { 'count/jobs.batch': '500m' })).toBe(false);
    expect(accepts(quotaSpec, { secrets: '1k' })).toBe(true);
    expect(accepts(quotaSpec, { cpu: '1.5' })).toBe(true);
  });

  it('rejects two keys that mean the same limit', () => {
    expect(issuesOf(quotaSpec, { cpu: '1', 'requests.cpu': '2' }, 'spec')).toEqual([
      'spec.requests.cpu: "requests.cpu" and "cpu" both limit requests.cpu; set only one of them',
    ]);
  });

  it('requires at least one entry and string values', () => {
    expect(issuesOf(quotaSpec, {})).toEqual(['quota must set at least one limit']);
    expect(issuesOf(quotaSpec, { cpu: 2 }, 'spec')[0]).toMatch(/^spec\.cpu: quota limits must be strings/);
    expect(accepts(quotaSpec, 'cpu=2')).toBe(false);
  });

  it('reports every offending key', () => {
    const issues = issuesOf(quotaSpec, { memory: 'lots', pods: '1.5', foo: '1' }, 'spec');
    expect(issues).toHaveLength(3);
    expect(issues.join('\n')).toMatch(/spec\.memory:.*spec\.pods:.*spec\.foo:/s);
  });
});

/** Issue 14 item 2: the building blocks' limits (LIMITS); over REST: test/integration/rest-limits.test.ts. */
describe('limits of the building blocks', () => {
  it('an API group or a resource over its length names the limit, and nothing else', () => {
    expect(issuesOf(apiGroup, 'a'.repeat(LIMITS.apiGroupLength + 1))).toEqual(['at most 253 characters']);
    expect(issuesOf(rbacResource, 'a'.repeat(LIMITS.resourceLength + 1))).toEqual(['at most 127 characters']);
  });

  it('quotas: at most 64 keys, keys of at most 317 characters, values of at most 64', () => {
    const keys = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`count/widgets${i}.example.com`, '1']));
    expect(accepts(quotaSpec, keys(LIMITS.quotaKeys))).toBe(true);
    expect(issuesOf(quotaSpec, keys(LIMITS.quotaKeys + 1), 'spec')).toEqual(['spec: at most 64 quota keys']);
    expect(issuesOf(quotaSpec, { cpu: '1'.repeat(65) }, 'spec')).toEqual([
      'spec.cpu: a quota limit is at most 64 characters',
    ]);
    expect(issuesOf(quotaSpec, { [`requests.${'a'.repeat(309)}`]: '1' })[0]).toMatch(
      /a key is at most 317 characters$/,
    );
  });

  it('labels: at most 64, values of at most 63 characters, keys of at most 317', () => {
    const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`team-${i}`, 'x']));
    expect(accepts(labelMap, labels(LIMITS.labels))).toBe(true);
    expect(issuesOf(labelMap, labels(LIMITS.labels + 1))).toEqual(['at most 64 labels']);
    expect(issuesOf(labelMap, { team: 'v'.repeat(64) })).toEqual(['team: a label value is at most 63 characters']);
    expect(issuesOf(labelMap, { ['k'.repeat(318)]: 'v' })[0]).toMatch(/a key is at most 317 characters$/);
  });

  it('a map of 40,000 entries answers one issue, counted before any entry is checked', () => {
    const many = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, 7]));
    expect(issuesOf(labelMap, many)).toEqual(['at most 64 labels']);
    expect(issuesOf(quotaSpec, many)).toEqual(['at most 64 quota keys']);
  });
});
