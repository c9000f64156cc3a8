/**
 * Isolation controller: makes a standard logical cloud's namespace a boundary on every cluster.
 * - Pod Security labels on the namespace (namespaceIsolationLabels, applied by the namespace controller);
 * - a LimitRange, so containers without `resources:` get requests and limits and fit a cpu/memory quota;
 * - a NetworkPolicy per the network mode (and, with a mesh, one that admits only this logical
 *   cloud's namespace to its istiod);
 * - the cluster-wide guard (tenant-guard.ts) that keeps tenants from changing any of it.
 */
import { networkModeOf, podSecurityOf, type LogicalCloudData, type NetworkMode } from '../domain/logical-cloud.js';
import { effectiveContainerDefaults } from '../validation/container-defaults.js';
import { pairsToMap } from '../db/named-record-store.js';
import {
  messageOf,
  pruneObjects,
  type ClusterContext,
  type ManagedKind,
  type ResourceStatus,
} from './cluster-context.js';
import { controlPlaneNamespace, LABEL_LOGICAL_CLOUD_ID } from './object-names.js';
import type { BuiltObject } from './objects.js';
import { dcmUserOn, ensureTenantGuard, GUARD_NAME } from './tenant-guard.js';

export const POD_SECURITY_PREFIX = 'pod-security.kubernetes.io/';
/** The namespace's network mode, for the guard (DenyAll: tenant NetworkPolicies may not open egress). */
export const NETWORK_MODE_LABEL = 'dcm.onap.org/network-isolation';
export const LIMIT_RANGE_NAME = 'dcm-container-defaults';
export const NETWORK_POLICY_NAME = 'dcm-network-isolation';
export const CONTROL_PLANE_POLICY_NAME = 'dcm-istiod-access';

const NETWORKING = 'networking.k8s.io/v1';

/** Applies one object; its status line. */
async function applied(ctx: ClusterContext, object: BuiltObject): Promise<ResourceStatus> {
  const line = { category: 'isolation', kind: object.kind, name: object.metadata.name } as const;
  try {
    await ctx.connection.apply(object);
    return { ...line, status: 'Created' };
  } catch (error) {
    return { ...line, status: 'Failed', message: messageOf(error) };
  }
}

/** Deletes the namespace's NetworkPolicy (network mode AllowAll); a line only when there was one, or it could not be deleted. */
async function removed(ctx: ClusterContext, name: string): Promise<ResourceStatus | undefined> {
  const line = { category: 'isolation', kind: 'NetworkPolicy', name } as const;
  const ref = { apiVersion: NETWORKING, kind: 'NetworkPolicy', name, namespace: ctx.namespace };
  try {
    // Only the DCM's own: a tenant's policy that happens to carry the name is the tenant's.
    const there = await ctx.connection.read<BuiltObject>(ref);
    if (there?.metadata.labels?.[LABEL_LOGICAL_CLOUD_ID] !== ctx.identity.logicalCloudId) return undefined;
    return (await ctx.connection.delete(ref)) ? { ...line, status: 'Deleted' } : undefined;
  } catch (error) {
    return { ...line, status: 'DeleteFailed', message: messageOf(error) };
  }
}

export const ISOLATION_KINDS: ManagedKind[] = [
  { category: 'isolation', apiVersion: 'v1', kind: 'LimitRange', namespaced: true },
  { category: 'isolation', apiVersion: NETWORKING, kind: 'NetworkPolicy', namespaced: true },
];

/**
 * The namespace's Pod Security labels: the level enforced, and `restricted` warned and audited
 * (a tenant sees what a stricter level would refuse); plus the network mode for the guard.
 */
export function namespaceIsolationLabels(data: Pick<LogicalCloudData, 'isolation'>): Record<string, string> {
  return {
    [`${POD_SECURITY_PREFIX}enforce`]: podSecurityOf(data),
    [`${POD_SECURITY_PREFIX}enforce-version`]: 'latest',
    [`${POD_SECURITY_PREFIX}warn`]: 'restricted',
    [`${POD_SECURITY_PREFIX}warn-version`]: 'latest',
    [`${POD_SECURITY_PREFIX}audit`]: 'restricted',
    [`${POD_SECURITY_PREFIX}audit-version`]: 'latest',
    [NETWORK_MODE_LABEL]: networkModeOf(data),
  };
}

const byName = (namespace: string) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
});
const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: 'TCP', port }));

/** The NetworkPolicy of a mode (none for AllowAll); `controlPlane`: the namespace of the logical cloud's istiod, when it has a mesh. */
export function networkPolicySpec(mode: NetworkMode, controlPlane?: string): Record<string, unknown> | undefined {
  if (mode === 'AllowAll') return undefined;
  if (mode === 'AllowSameNamespace') {
    return {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: {} }, ...(controlPlane ? [byName(controlPlane)] : [])] }],
    };
  }
  return {
    podSelector: {},
    policyTypes: ['Ingress', 'Egress'],
    egress: [
      { to: [byName('kube-system')], ports: [{ protocol: 'UDP', port: 53 }, ...tcp(53)] },
      // Sidecars reach their istiod (xDS and certificates on 15012; the injector on 15017).
      ...(controlPlane ? [{ to: [byName(controlPlane)], ports: tcp(15012, 15017) }] : []),
    ],
  };
}

/** The control-plane namespace's policy: istiod's ports only for this logical cloud's namespace (and itself); the webhook for the API server. */
export function controlPlanePolicySpec(tenantNamespace: string): Record<string, unknown> {
  return {
    podSelector: {},
    policyTypes: ['Ingress'],
    ingress: [
      { from: [byName(tenantNamespace), { podSelector: {} }], ports: tcp(15010, 15012, 15014) },
      // Injection and validation calls come from the API server, which is no pod of any namespace.
      { ports: tcp(15017) },
    ],
  };
}

/** Clusters (registrations) whose DCM identity and guard check a replica keeps at most. */
const MAX_KNOWN_CLUSTERS = 4096;
/** How long a replica takes the guard it verified on a cluster as still there (a drift check always looks). */
const GUARD_VERIFIED_MS = 60_000;

export class IsolationController {
  /** The DCM's user name per cluster and registration (its kubeconfig does not change within one revision). */
  private readonly users = new Map<string, string>();
  /** When this replica last found the guard as it should be, per cluster and registration. */
  private readonly guardVerified = new Map<string, number>();

  /**
   * LimitRange and NetworkPolicy in the namespace, and the guard on the cluster, at once (each
   * object by name: no list, so an apply costs two writes and the guard's two reads).
   */
  async apply(ctx: ClusterContext): Promise<void> {
    const data = ctx.work.logicalCloud.data;
    const quotas = ctx.work.quotas.map((q) => ({ name: q.name, hard: pairsToMap(q.data.spec) }));
    const defaults = effectiveContainerDefaults(data.isolation?.containerDefaults, quotas);
    const limitRange: BuiltObject = {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: LIMIT_RANGE_NAME, namespace: ctx.namespace, labels: ctx.labels },
      spec: { limits: [{ type: 'Container', default: defaults.limits, defaultRequest: defaults.requests }] },
    };
    const meshOn = data.serviceMesh?.enabled === true;
    const spec = networkPolicySpec(networkModeOf(data), meshOn ? controlPlaneNamespace(ctx.identity) : undefined);
    const policyMeta = { name: NETWORK_POLICY_NAME, namespace: ctx.namespace, labels: ctx.labels };
    const lines = await Promise.all([
      applied(ctx, limitRange),
      spec
        ? applied(ctx, { apiVersion: NETWORKING, kind: 'NetworkPolicy', metadata: policyMeta, spec })
        : removed(ctx, NETWORK_POLICY_NAME),
      this.guard(ctx),
    ]);
    for (const line of lines) if (line) ctx.record(line);
  }

  /**
   * The cluster's guard: verified (two reads) at most every GUARD_VERIFIED_MS by the applies of
   * this replica; a drift check always verifies it, and a deleted or edited guard starts one.
   */
  private async guard(ctx: ClusterContext): Promise<ResourceStatus> {
    const key = this.clusterKey(ctx);
    const verified = this.guardVerified.get(key);
    if (!ctx.thorough && verified !== undefined && Date.now() - verified < GUARD_VERIFIED_MS) {
      return { category: 'isolation', kind: 'ValidatingAdmissionPolicy', name: GUARD_NAME, status: 'Created' };
    }
    const line = await ensureTenantGuard(ctx, () => this.userOn(ctx));
    if (line.status === 'Created' && line.message === undefined) this.remember(this.guardVerified, key, Date.now());
    else this.guardVerified.delete(key);
    return line;
  }

  private clusterKey(ctx: ClusterContext): string {
    return `${ctx.work.cluster.id}@${ctx.work.cluster.revision}`;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_KNOWN_CLUSTERS) map.clear();
    map.set(key, value);
  }

  private async userOn(ctx: ClusterContext): Promise<string> {
    const key = this.clusterKey(ctx);
    const known = this.users.get(key);
    if (known) return known;
    const user = await dcmUserOn(ctx);
    this.remember(this.users, key, user);
    return user;
  }

  /** With a mesh: the control-plane namespace admits only this logical cloud's namespace to istiod (after the CA controller made it). */
  async applyControlPlane(ctx: ClusterContext): Promise<void> {
    const namespace = controlPlaneNamespace(ctx.identity);
    const object: BuiltObject = {
      apiVersion: NETWORKING,
      kind: 'NetworkPolicy',
      metadata: { name: CONTROL_PLANE_POLICY_NAME, namespace, labels: ctx.labels },
      spec: controlPlanePolicySpec(ctx.namespace),
    };
    const name = `${namespace}/${CONTROL_PLANE_POLICY_NAME}`;
    try {
      await ctx.connection.apply(object);
      ctx.record({ category: 'isolation', kind: 'NetworkPolicy', name, status: 'Created' });
    } catch (error) {
      ctx.record({ category: 'isolation', kind: 'NetworkPolicy', name, status: 'Failed', message: messageOf(error) });
    }
  }

  /** Terminate: the namespace's objects go (the namespace itself follows); the guard stays for the cluster's other tenants. */
  async remove(ctx: ClusterContext): Promise<void> {
    await pruneObjects(ctx, ISOLATION_KINDS);
  }
}
