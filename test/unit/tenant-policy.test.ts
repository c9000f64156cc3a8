import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_CLUSTER_WIDE_CEILING,
  clusterAdmitted,
  defaultProjectPolicy,
  permissionRefusal,
  uncoveredGrant,
  type PolicyRule,
} from '../../src/auth/tenant-policy.js';
import { boundaryRefusal } from '../../src/features/project-policies/project-policy.service.js';
import { ProjectPolicySchema, policyFromBody } from '../../src/features/project-policies/project-policy.schema.js';
import {
  DEFAULT_RESERVED_NAMESPACES,
  reservedNamespaceOwner,
  tenantGroup,
  tenantUserName,
} from '../../src/domain/tenant-identity.js';

const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({
  apiGroups,
  resources,
  verbs,
});

describe('rule coverage (the API server escalation test)', () => {
  const ceiling = [
    rule(['', 'apps'], ['pods', 'deployments', '*/scale'], ['get', 'list']),
    rule(['batch'], ['*'], ['*']),
  ];

  it.each([
    ['exact match', rule([''], ['pods'], ['get'])],
    ['several groups, resources and verbs, each covered', rule(['', 'apps'], ['pods', 'deployments'], ['get', 'list'])],
    [
      '"*" resources and verbs in the ceiling cover anything of its group',
      rule(['batch'], ['jobs', 'cronjobs/status'], ['create', 'escalate']),
    ],
    [
      'a ceiling "*/scale" covers the scale subresource of any resource',
      rule(['apps'], ['statefulsets/scale'], ['get']),
    ],
  ])('covers: %s', (_what, requested) => {
    expect(uncoveredGrant(ceiling, requested)).toBeUndefined();
  });

  it.each([
    [
      'a verb outside the ceiling',
      rule([''], ['pods'], ['delete']),
      { apiGroup: '', resource: 'pods', verb: 'delete' },
    ],
    [
      '"*" verbs against a ceiling of listed verbs',
      rule([''], ['pods'], ['*']),
      { apiGroup: '', resource: 'pods', verb: '*' },
    ],
    [
      '"*" resources against listed resources',
      rule([''], ['*'], ['get']),
      { apiGroup: '', resource: '*', verb: 'get' },
    ],
    [
      '"*" groups against listed groups',
      rule(['*'], ['pods'], ['get']),
      { apiGroup: '*', resource: 'pods', verb: 'get' },
    ],
    [
      'another group',
      rule(['rbac.authorization.k8s.io'], ['roles'], ['get']),
      { apiGroup: 'rbac.authorization.k8s.io', resource: 'roles', verb: 'get' },
    ],
    [
      'a subresource not listed',
      rule([''], ['pods/exec'], ['get']),
      { apiGroup: '', resource: 'pods/exec', verb: 'get' },
    ],
    [
      'one triple of many is enough',
      rule(['', 'apps'], ['pods'], ['get', 'watch']),
      { apiGroup: '', resource: 'pods', verb: 'watch' },
    ],
  ])('refuses: %s', (_what, requested, uncovered) => {
    expect(uncoveredGrant(ceiling, requested)).toEqual(uncovered);
  });

  it('the default namespaced ceiling has every API verb but not escalate, bind, impersonate or "*"', () => {
    const { namespacedCeiling } = defaultProjectPolicy();
    expect(
      uncoveredGrant(
        namespacedCeiling,
        rule(
          ['', 'apps', 'example.com'],
          ['pods', 'secrets', 'deployments/scale'],
          ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
        ),
      ),
    ).toBeUndefined();
    for (const verb of ['escalate', 'bind', 'impersonate', '*']) {
      expect(
        uncoveredGrant(namespacedCeiling, rule(['rbac.authorization.k8s.io', ''], ['roles', 'serviceaccounts'], [verb]))
          ?.verb,
      ).toBe(verb);
    }
  });

  it('the default cluster-wide ceiling reads cluster-scoped objects but no secrets, RBAC, CSRs or admission configuration', () => {
    expect(
      uncoveredGrant(DEFAULT_CLUSTER_WIDE_CEILING, rule([''], ['namespaces', 'nodes'], ['get', 'list', 'watch'])),
    ).toBeUndefined();
    for (const [group, resource] of [
      ['', 'secrets'],
      ['rbac.authorization.k8s.io', 'clusterroles'],
      ['certificates.k8s.io', 'certificatesigningrequests'],
      ['admissionregistration.k8s.io', 'validatingwebhookconfigurations'],
    ] as const) {
      expect(uncoveredGrant(DEFAULT_CLUSTER_WIDE_CEILING, rule([group], [resource], ['get']))).toBeDefined();
    }
    expect(uncoveredGrant(DEFAULT_CLUSTER_WIDE_CEILING, rule([''], ['namespaces'], ['delete']))).toBeDefined();
  });
});

describe('project policy', () => {
  const cluster = (provider: string, name: string, labels: Record<string, string> = {}) => ({ provider, name, labels });

  it('a new project may reference no cluster, has no level 0 and no cluster-wide permission', () => {
    const policy = defaultProjectPolicy();
    expect(boundaryRefusal(policy, { clusters: [cluster('edge', 'c1')] })).toMatch(
      /cluster c1 of provider edge is not among the clusters/,
    );
    expect(boundaryRefusal(policy, { level: '0' })).toMatch(/level "0"/);
    expect(
      boundaryRefusal(policy, { permissions: [{ name: 'all', namespace: '', ...rule(['*'], ['*'], ['*']) }] }),
    ).toMatch(/permission all is cluster-wide/);
    expect(
      boundaryRefusal(policy, {
        level: '1',
        permissions: [{ name: 'p', namespace: 'ns-1', ...rule([''], ['configmaps'], ['get']) }],
      }),
    ).toBeUndefined();
  });

  it('admits clusters by provider, by name or by all of its labels', () => {
    const selection = { providers: ['edge'], clusters: ['core/c9'], labels: { env: 'dev', zone: 'a' } };
    expect(clusterAdmitted(selection, cluster('edge', 'any'))).toBe(true);
    expect(clusterAdmitted(selection, cluster('core', 'c9'))).toBe(true);
    expect(clusterAdmitted(selection, cluster('core', 'c1', { env: 'dev', zone: 'a', more: 'x' }))).toBe(true);
    expect(clusterAdmitted(selection, cluster('core', 'c1', { env: 'dev' }))).toBe(false);
    expect(clusterAdmitted({ providers: [], clusters: [], labels: {} }, cluster('core', 'c1'))).toBe(false);
  });

  it('names the permission, the grant and the ceiling it falls outside of, with a hint for "*"', () => {
    const refusal = permissionRefusal(defaultProjectPolicy(), {
      name: 'permission-2',
      namespace: 'ns-1',
      ...rule([''], ['configmaps'], ['*']),
    });
    expect(refusal).toBe(
      'permission permission-2 asks for verb "*" on resource "configmaps" of API group "", which the project\'s namespaced ceiling does not cover (list the verbs, resources and groups instead of "*")',
    );
  });

  it('a body leaves out what it does not change; cluster-wide allowed without a ceiling gets the default cluster-wide ceiling', () => {
    const policy = policyFromBody(
      ProjectPolicySchema.parse({ clusters: { providers: ['edge'] }, clusterWide: { allowed: true } }),
    );
    expect(policy.clusterWide.ceiling).toEqual(DEFAULT_CLUSTER_WIDE_CEILING);
    expect(policy.namespacedCeiling).toEqual(defaultProjectPolicy().namespacedCeiling);
    expect(policy.allowAdminLevel).toBe(false);
    expect(
      policyFromBody(
        ProjectPolicySchema.parse({ clusterWide: { allowed: false, ceiling: [rule(['*'], ['*'], ['*'])] } }),
      ).clusterWide.ceiling,
    ).toEqual([]);
  });

  it('refuses an unknown field, a malformed cluster and too many rules, naming the field', () => {
    expect(ProjectPolicySchema.safeParse({ clusters: { clusters: ['no-slash'] } }).error?.issues[0]?.path).toEqual([
      'clusters',
      'clusters',
      0,
    ]);
    expect(ProjectPolicySchema.safeParse({ allowEverything: true }).success).toBe(false);
    expect(
      ProjectPolicySchema.safeParse({
        namespacedCeiling: Array.from({ length: 51 }, () => rule(['*'], ['*'], ['get'])),
      }).error?.issues[0]?.path,
    ).toEqual(['namespacedCeiling']);
    expect(ProjectPolicySchema.safeParse({ namespacedCeiling: [rule([''], ['pods'], ['steal'])] }).success).toBe(false);
  });
});

describe('tenant identity', () => {
  it('the CN carries the prefix, project, logical cloud and user name; never a bare user name', () => {
    expect(tenantUserName('p1', 'lc-1', 'user-1')).toBe('dcm:p1:lc-1:user-1');
    expect(tenantUserName('p1', 'lc-1', 'alice')).not.toBe('alice');
  });

  it('stays within 64 characters and distinct when names are long', () => {
    const a = tenantUserName('p'.repeat(60), 'lc-a', 'user-1');
    const b = tenantUserName('p'.repeat(60), 'lc-b', 'user-1');
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).toMatch(/^dcm:[0-9a-f]{16}:user-1$/);
    expect(a).not.toBe(b);
  });

  it('the group is unique to the logical cloud and its generation, and fits an O', () => {
    const id = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    expect(tenantGroup(id, 'a1b2c3d4e5f6')).toBe(`dcm:lc:${id}:a1b2c3d4e5f6`);
    expect(tenantGroup(id, 'a1b2c3d4e5f6').length).toBeLessThanOrEqual(64);
    expect(tenantGroup(id, 'a1b2c3d4e5f6')).not.toBe(tenantGroup(id, '000000000000'));
  });

  it.each([
    ['default', 'Kubernetes'],
    ['kube-system', 'Kubernetes'],
    ['kube-public', 'Kubernetes'],
    ['istio-system', 'Istio (its default control plane)'],
    ['istio-dcm-0f1e2d3c', "the DCM's service-mesh control planes"],
  ])('namespace %s belongs to %s', (namespace, owner) => {
    expect(reservedNamespaceOwner(namespace, DEFAULT_RESERVED_NAMESPACES)).toBe(owner);
  });

  it('other namespaces are free to claim', () => {
    expect(reservedNamespaceOwner('ns-1', DEFAULT_RESERVED_NAMESPACES)).toBeUndefined();
    // istio-* is reserved by default (DCM_RESERVED_NAMESPACES; see test/unit/reserved-namespaces.test.ts)
    expect(reservedNamespaceOwner('istio-ingress', [])).toBeUndefined();
  });
});
