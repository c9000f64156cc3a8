/**
 * Isolation of a logical cloud's namespace, without a cluster: the container defaults against
 * quotas, the NetworkPolicy of each mode, the namespaced rules that never reach the Namespace
 * object, the policy's bounds, and the controller and guard on a FakeCluster.
 */
import { describe, expect, it } from '@jest/globals';
import { defaultProjectPolicy } from '../../src/auth/tenant-policy.js';
import {
  IsolationController,
  namespaceIsolationLabels,
  networkPolicySpec,
} from '../../src/controllers/isolation.controller.js';
import { NamespaceController } from '../../src/controllers/namespace.controller.js';
import { GUARD_NAME, guardPolicy, mergeExemptUsers } from '../../src/controllers/tenant-guard.js';
import { boundaryRefusal, logicalCloudBoundary } from '../../src/features/project-policies/project-policy.service.js';
import { NotServed } from '../../src/kubernetes/cluster-errors.js';
import type { KubeObject } from '../../src/kubernetes/cluster-gateway.js';
import { defaultsExceedingQuotas, effectiveContainerDefaults } from '../../src/validation/container-defaults.js';
import { namespacedRulesFor, namespaceObjectRuleProblem } from '../../src/validation/namespaced-rules.js';
import { contextFor, NS } from '../support/controller-context.js';
import { FakeCluster } from '../support/fake-cluster.js';

describe('container defaults', () => {
  it("are the DCM's when the logical cloud gives none, capped by its quotas, a request never above the limit", () => {
    expect(effectiveContainerDefaults(undefined, [])).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    });
    const capped = effectiveContainerDefaults(undefined, [
      { name: 'q', hard: { 'limits.cpu': '200m', cpu: '50m', 'limits.memory': '64Mi' } },
    ]);
    expect(capped).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' } });
  });

  it("keep the logical cloud's own, and an explicit request above the DCM's default limit raises that limit", () => {
    expect(effectiveContainerDefaults({ requests: { cpu: '1' } }, []).limits.cpu).toBe('1');
    expect(effectiveContainerDefaults({ limits: { memory: '1Gi' } }, []).limits.memory).toBe('1Gi');
  });

  it('that exceed a quota of the logical cloud are named with the quota and its key', () => {
    const problems = defaultsExceedingQuotas({ limits: { cpu: '2' }, requests: { memory: '64Mi' } }, [
      { name: 'small', hard: { 'limits.cpu': '1', memory: '1Gi' } },
    ]);
    expect(problems).toEqual([
      {
        field: 'spec.isolation.containerDefaults.limits.cpu',
        message: expect.stringContaining('cluster quota small (limits.cpu: 1)'),
      },
    ]);
    expect(defaultsExceedingQuotas({ limits: { cpu: '1' } }, [{ name: 'q', hard: { 'limits.cpu': '1000m' } }])).toEqual(
      [],
    );
  });
});

describe('network policies', () => {
  it('AllowSameNamespace admits ingress from the namespace (and the control plane with a mesh); egress stays open', () => {
    expect(networkPolicySpec('AllowSameNamespace')).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: {} }] }],
    });
    const withMesh = networkPolicySpec('AllowSameNamespace', 'istio-dcm-x') as { ingress: { from: unknown[] }[] };
    expect(withMesh.ingress[0]!.from).toContainEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-dcm-x' } },
    });
  });

  it('DenyAll admits no ingress and egress only to DNS in kube-system (and istiod with a mesh); AllowAll is no policy', () => {
    const deny = networkPolicySpec('DenyAll') as {
      policyTypes: string[];
      ingress?: unknown;
      egress: { to: unknown[]; ports: unknown[] }[];
    };
    expect(deny.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(deny.ingress).toBeUndefined();
    expect(deny.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ]);
    expect((networkPolicySpec('DenyAll', 'istio-dcm-x') as { egress: unknown[] }).egress).toHaveLength(2);
    expect(networkPolicySpec('AllowAll')).toBeUndefined();
  });
});

describe('namespaced rules', () => {
  const served = new Map([
    ['pods', new Set([''])],
    ['pods/log', new Set([''])],
    ['namespaces', new Set([''])],
    ['namespaces/finalize', new Set([''])],
    ['deployments', new Set(['apps'])],
    ['widgets', new Set(['example.com'])],
  ]);

  it('naming namespaces are refused, with the resource named', () => {
    expect(namespaceObjectRuleProblem({ apiGroups: [''], resources: ['pods', 'namespaces'] })).toMatch(/^namespaces: /);
    expect(namespaceObjectRuleProblem({ apiGroups: ['*'], resources: ['namespaces/finalize'] })).toMatch(
      /^namespaces\/finalize/,
    );
    expect(namespaceObjectRuleProblem({ apiGroups: ['apps'], resources: ['namespaces'] })).toBeUndefined();
  });

  it('with * are written as the served core resources less namespaces, other groups keeping *', () => {
    expect(namespacedRulesFor({ apiGroups: ['*'], resources: ['*'], verbs: ['get'] }, served)).toEqual([
      { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] },
      { apiGroups: ['apps', 'example.com'], resources: ['*'], verbs: ['get'] },
    ]);
    expect(namespacedRulesFor({ apiGroups: ['', 'apps'], resources: ['*'], verbs: ['list'] }, served)).toEqual([
      { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['list'] },
      { apiGroups: ['apps'], resources: ['*'], verbs: ['list'] },
    ]);
    const rule = { apiGroups: ['apps'], resources: ['*'], verbs: ['get'] };
    expect(namespacedRulesFor(rule, served)).toEqual([rule]);
  });

  it('without discovery fall back to a fixed core list, never to * of every group', () => {
    const rules = namespacedRulesFor({ apiGroups: ['*'], resources: ['*'], verbs: ['get'] }, undefined);
    expect(rules).toHaveLength(1);
    expect(rules[0]!.resources).toContain('pods');
    expect(rules[0]!.resources).not.toContain('namespaces');
  });
});

describe('the project policy on isolation', () => {
  const policy = defaultProjectPolicy();
  const lc = (isolation: object, extra: object = {}) =>
    logicalCloudBoundary({
      description: '',
      userData1: '',
      userData2: '',
      namespace: 'team-a-x',
      level: '1',
      labels: [],
      isolation,
      ...extra,
    });

  it('by default refuses privileged to a project caller, admits baseline and restricted', () => {
    expect(boundaryRefusal(policy, lc({ podSecurity: 'privileged' }))).toMatch(
      /podSecurity privileged .* minimum \(baseline\)/,
    );
    expect(boundaryRefusal(policy, lc({}))).toBeUndefined();
    expect(boundaryRefusal(policy, lc({ podSecurity: 'restricted' }))).toBeUndefined();
    expect(boundaryRefusal({ ...policy, podSecurity: { minimum: 'restricted' } }, lc({}))).toMatch(
      /baseline is less strict/,
    );
  });

  it('bounds the network mode, the mesh CA constraint and the namespace prefix', () => {
    expect(boundaryRefusal({ ...policy, network: { allowed: ['DenyAll'] } }, lc({}))).toMatch(
      /AllowSameNamespace is not among/,
    );
    expect(boundaryRefusal(policy, lc({}, { serviceMesh: { enabled: true, nameConstraints: false } }))).toMatch(
      /nameConstraints false/,
    );
    expect(
      boundaryRefusal(
        { ...policy, mesh: { allowUnconstrainedIntermediates: true } },
        lc({}, { serviceMesh: { enabled: true, nameConstraints: false } }),
      ),
    ).toBeUndefined();
    expect(boundaryRefusal({ ...policy, namespacePrefix: 'team-b-' }, lc({}))).toMatch(
      /namespace team-a-x does not start with .* team-b-/,
    );
  });
});

describe('the isolation controller on a FakeCluster', () => {
  it('labels the namespace with Pod Security (no logical cloud label can weaken it)', async () => {
    const cluster = new FakeCluster();
    const ctx = contextFor(cluster, {
      data: {
        labels: [{ key: 'pod-security.kubernetes.io/enforce', value: 'privileged' }],
        isolation: { podSecurity: 'restricted' },
      },
    });
    await new NamespaceController(200).apply(ctx);
    expect(cluster.get('Namespace', NS)!.metadata!.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'dcm.onap.org/network-isolation': 'AllowSameNamespace',
    });
    expect(namespaceIsolationLabels({})['pod-security.kubernetes.io/enforce']).toBe('baseline');
  });

  it('applies LimitRange, NetworkPolicy and the guard; a change of mode to AllowAll removes the policy', async () => {
    const cluster = new FakeCluster();
    const controller = new IsolationController();
    const ctx = contextFor(cluster, { quotas: [['q', { 'limits.cpu': '300m' }]] });
    await controller.apply(ctx);
    const limitRange = cluster.get<KubeObject & { spec: { limits: { default: Record<string, string> }[] } }>(
      'LimitRange',
      'dcm-container-defaults',
      NS,
    )!;
    expect(limitRange.spec.limits[0]!.default).toEqual({ cpu: '300m', memory: '512Mi' });
    expect(cluster.get('NetworkPolicy', 'dcm-network-isolation', NS)).toBeDefined();
    expect(cluster.get('ValidatingAdmissionPolicy', GUARD_NAME)).toBeDefined();
    expect(cluster.get('ValidatingAdmissionPolicyBinding', GUARD_NAME)).toBeDefined();
    const again = contextFor(cluster, { data: { isolation: { network: 'AllowAll' } } });
    await controller.apply(again);
    expect(cluster.get('NetworkPolicy', 'dcm-network-isolation', NS)).toBeUndefined();
    expect(again.resources.map((r) => `${r.kind} ${r.status}`)).toContain('NetworkPolicy Deleted');
  });

  it("in AllowAll leaves a tenant's own policy of the same name alone, and asks the cluster who the DCM is once per registration", async () => {
    const cluster = new FakeCluster();
    await cluster.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'dcm-network-isolation', namespace: NS },
      spec: {},
    });
    const controller = new IsolationController();
    await controller.apply(contextFor(cluster, { data: { isolation: { network: 'AllowAll' } } }));
    await controller.apply(contextFor(cluster, { data: { isolation: { network: 'AllowAll' } } }));
    expect(cluster.get('NetworkPolicy', 'dcm-network-isolation', NS)).toBeDefined();
    expect(cluster.calls.filter((c) => c === 'whoami')).toHaveLength(1);
  });

  it('writes the guard only when it differs (one read per apply after the first)', async () => {
    const cluster = new FakeCluster();
    const controller = new IsolationController();
    const guardWrites = () => cluster.calls.filter((c) => c.startsWith('apply ValidatingAdmissionPolicy'));
    await controller.apply(contextFor(cluster));
    expect(guardWrites()).toHaveLength(2);
    cluster.calls.length = 0;
    await controller.apply(contextFor(cluster));
    expect(guardWrites()).toEqual([]);
    // Verified a moment ago: an apply takes it as there; a drift check always reads it (and restores it).
    expect(cluster.calls.filter((c) => c.includes('ValidatingAdmissionPolicy'))).toEqual([]);
    cluster.objects.delete(cluster.key('ValidatingAdmissionPolicy', 'dcm-tenant-guard'));
    const check = contextFor(cluster);
    check.thorough = true;
    await controller.apply(check);
    expect(guardWrites()).toEqual(['apply ValidatingAdmissionPolicy dcm-tenant-guard']);
  });

  it('lets every DCM identity through that applied to the cluster, and no one else', () => {
    const first = guardPolicy(mergeExemptUsers(undefined, 'dcm-a'));
    const both = mergeExemptUsers(first as never, 'dcm-b');
    expect(both).toEqual(['dcm-a', 'dcm-b']);
    expect(mergeExemptUsers(guardPolicy(both) as never, 'dcm-a')).toEqual(['dcm-a', 'dcm-b']);
    const spec = guardPolicy(['we "quote"']).spec as { variables: { name: string; expression: string }[] };
    expect(spec.variables[0]!.expression).toBe('request.userInfo.username in ["we \\"quote\\""]');
  });

  it('says so in status when the cluster does not serve the admission policy API (drift repair only), and the apply goes on', async () => {
    const cluster = new FakeCluster();
    cluster.refuse = (verb, kind) =>
      verb === 'apply' && kind === 'ValidatingAdmissionPolicy'
        ? new NotServed('the cluster does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy')
        : undefined;
    const ctx = contextFor(cluster);
    await new IsolationController().apply(ctx);
    expect(ctx.failed()).toBe(false);
    expect(ctx.warnings).toEqual([
      expect.objectContaining({ message: expect.stringContaining('guard not enforced on this cluster') }),
    ]);
  });
});
