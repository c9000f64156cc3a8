/** The lifecycle's API shapes: operation and revoke requests, operation and status bodies, kubeconfig content. */
import { z } from 'zod';
import { ClusterHealthSchema, clusterHealthView } from '../cluster-registry/cluster-health.schema.js';
import { STATUS_TEXT, type OperationSummary } from './lifecycle.service.js';
import type { LogicalCloudStatus } from './logical-cloud-status.js';

export const operationBody = (summary: OperationSummary) => ({
  'logical-cloud-name': summary.logicalCloud.name,
  namespace: summary.logicalCloud.data.namespace,
  description: summary.logicalCloud.data.description,
  user: summary.logicalCloud.data.user?.name ?? '',
  clusters: summary.clusters,
  'quota-name': summary.quotas[0] ?? '',
  'quota-names': summary.quotas,
  status: STATUS_TEXT[summary.state],
});

/** The body of every lifecycle operation's answer (operationBody). */
export const OperationBody = z.strictObject({
  'logical-cloud-name': z.string(),
  namespace: z.string(),
  description: z.string(),
  user: z.string(),
  clusters: z.array(z.string()),
  'quota-name': z.string(),
  'quota-names': z.array(z.string()),
  status: z.enum(Object.values(STATUS_TEXT) as [string, ...string[]]),
});

const LIFECYCLE_STATES = [
  'Created',
  'Instantiating',
  'Instantiated',
  'InstantiateFailed',
  'Terminating',
  'Terminated',
  'TerminateFailed',
] as const;
const CLUSTER_STATES = [
  'Pending',
  'Applying',
  'Applied',
  'Failed',
  'Terminating',
  'Terminated',
  'TerminateFailed',
] as const;
const RESOURCE_STATES = ['Created', 'Pending', 'Ready', 'Failed', 'Deleted', 'DeleteFailed'] as const;
const Summary = z.enum(['None', 'Created', 'Deleted', 'Failed', 'Pending', 'Ready']);

/** The body of GET …/status (statusView). */
export const StatusBody = z.strictObject({
  metadata: z.strictObject({ name: z.string(), description: z.string() }),
  status: z.enum(Object.values(STATUS_TEXT) as [string, ...string[]]),
  state: z.enum(LIFECYCLE_STATES),
  operation: z
    .strictObject({
      kind: z.enum(['apply', 'terminate']),
      inProgress: z.boolean(),
      requestedAt: z.iso.datetime(),
      finishedAt: z.iso.datetime().optional(),
      credentialGeneration: z.string().optional(),
      error: z.string().optional(),
      stopped: z.boolean().optional(),
      // A revocation that also removed the identities the tenant made (see the resource lines of each cluster).
      removeTenantIdentities: z.boolean().optional(),
    })
    .nullable(),
  // The last explicit apply was an admin's: renewal and drift repair are not bounded by the project's policy.
  policyExempt: z.boolean(),
  credentials: z.strictObject({ generation: z.number() }).nullable(),
  clusters: z.array(
    z.strictObject({
      'cluster-reference': z.string(),
      'cluster-provider': z.string(),
      cluster: z.string(),
      state: z.enum(CLUSTER_STATES),
      'namespace-status': Summary,
      'user-certificate-status': Summary,
      'role-status': Summary,
      'role-binding-status': Summary,
      'quota-status': Summary,
      'ca-status': Summary,
      'mesh-status': Summary,
      'certificate-not-after': z.iso.datetime().nullable(),
      'cluster-health': ClusterHealthSchema.nullable(),
      resources: z.array(
        z.strictObject({
          category: z.enum([
            'namespace',
            'user-certificate',
            'role',
            'role-binding',
            'quota',
            'isolation',
            'ca',
            'mesh',
          ]),
          kind: z.string(),
          name: z.string(),
          status: z.enum(RESOURCE_STATES),
          message: z.string().optional(),
        }),
      ),
      warnings: z.array(z.string()),
      warningsOmitted: z.number(),
      errors: z.array(z.string()),
    }),
  ),
  // With spec.clusterSelector: the clusters selected (Pending while unreachable), the others and why, the last change.
  clusterSelection: z
    .strictObject({
      selected: z.array(
        z.strictObject({
          'cluster-provider': z.string(),
          cluster: z.string(),
          state: z.enum(['Selected', 'Pending']),
          reason: z.string().optional(),
        }),
      ),
      notSelected: z.array(
        z.strictObject({
          'cluster-provider': z.string(),
          cluster: z.string(),
          reason: z.enum(['provider', 'labels', 'project policy']),
          message: z.string(),
        }),
      ),
      changedAt: z.iso.datetime(),
      cause: z.string(),
    })
    .optional(),
  // The newest objects found changed or deleted on a cluster (drift), newest first.
  drift: z.array(
    z.strictObject({
      'cluster-reference': z.string(),
      'cluster-provider': z.string(),
      cluster: z.string(),
      kind: z.string(),
      name: z.string(),
      change: z.enum(['deleted', 'changed', 'deleting', 'unexpected']),
      details: z.string(),
      action: z.enum(['restored', 'reported', 'restore-failed']),
      message: z.string().optional(),
      'detected-at': z.iso.datetime(),
    }),
  ),
  // Each overall quota (one budget across the clusters): per key hard, used and assigned (sums), and each cluster's part.
  overallQuotas: z.array(
    z.strictObject({
      name: z.string(),
      keys: z.array(
        z.strictObject({
          key: z.string(),
          hard: z.string(),
          used: z.string(),
          assigned: z.string(),
          overUsed: z.boolean().optional(),
        }),
      ),
      clusters: z.array(
        z.strictObject({
          reference: z.string(),
          reachable: z.boolean(),
          assigned: z.record(z.string(), z.string()),
          used: z.record(z.string(), z.string()),
          message: z.string().optional(),
        }),
      ),
    }),
  ),
});

/** A kubeconfig as JSON (Accept: application/json); as YAML (the default) it is the same mapping, so the same schema. */
export const KubeconfigJson = z.looseObject({
  apiVersion: z.string(),
  kind: z.literal('Config'),
  clusters: z.array(z.unknown()),
  contexts: z.array(z.unknown()),
  users: z.array(z.unknown()),
});
export const KUBECONFIG_CONTENT = { 'application/yaml': KubeconfigJson, 'application/json': KubeconfigJson };

/**
 * Operations take no body; EMCO clients send none, `{}` or `{"metadata":{"name":""}}`: any JSON object
 * is read and ignored, anything else (an array, a string…) is a 400.
 */
export const OperationRequest = z
  .looseObject({})
  .meta({ description: 'ignored: none, {} or emcoctl\'s {"metadata":{"name":""}} (any JSON object)' });

/** The body of POST …/revoke-credentials: none, `{}`, or what else to remove. */
export const RevokeRequest = z.strictObject({
  removeTenantIdentities: z
    .boolean()
    .optional()
    .meta({
      description:
        "Also remove, on every cluster, in the logical cloud's namespace: RoleBindings the DCM did not make that " +
        'bind a ServiceAccount or User, and ServiceAccounts the DCM did not make (but default) with their token Secrets',
    }),
});

export const KubeconfigQuery = z.object({ 'cluster-reference': z.string().min(1).max(128).optional() });

/** The body of GET …/status (design 15): overall status, then per cluster and resource. */
export function statusView(view: LogicalCloudStatus) {
  const { logicalCloud, status, credentials, health, drift, selection, overallQuotas } = view;
  const summarize = (resources: { category: string; status: string }[], category: string) => {
    const mine = resources.filter((r) => r.category === category);
    if (mine.length === 0) return 'None';
    if (mine.some((r) => r.status === 'Failed' || r.status === 'DeleteFailed')) return 'Failed';
    return mine.every((r) => r.status === 'Deleted')
      ? 'Deleted'
      : mine.some((r) => r.status === 'Created')
        ? 'Created'
        : 'Deleted';
  };
  const meshStatus = (resources: { category: string; status: string }[]) => {
    const mesh = resources.filter((r) => r.category === 'mesh');
    for (const state of ['Pending', 'Ready'] as const)
      if (
        !mesh.some((r) => r.status === 'Failed' || r.status === 'DeleteFailed') &&
        mesh.some((r) => r.status === state)
      )
        return state;
    return summarize(resources, 'mesh');
  };
  return {
    metadata: { name: logicalCloud.name, description: logicalCloud.data.description },
    status: STATUS_TEXT[status?.state ?? 'Created'],
    state: status?.state ?? 'Created',
    operation: status?.operation ?? null,
    policyExempt: status?.policyExempt === true,
    // The tenant's credential generation (a new one after every revocation and terminate) and each certificate's expiry.
    credentials: credentials?.generation !== undefined ? { generation: credentials.generation } : null,
    clusters: (status?.clusters ?? []).map((c) => ({
      'cluster-reference': c.reference,
      'cluster-provider': c.provider,
      cluster: c.cluster,
      state: c.state,
      'namespace-status': summarize(c.resources, 'namespace'),
      'user-certificate-status': summarize(c.resources, 'user-certificate'),
      'role-status': summarize(c.resources, 'role'),
      'role-binding-status': summarize(c.resources, 'role-binding'),
      'quota-status': summarize(c.resources, 'quota'),
      // Service mesh only (else None): the cluster's intermediate CA / cacerts Secret, and its Istio control plane.
      'ca-status': summarize(c.resources, 'ca'),
      // Pending: declared, the control plane not ready yet; Ready: its Istio resource (or istiod) reports ready.
      'mesh-status': meshStatus(c.resources),
      'certificate-not-after':
        credentials?.certificates.find((cert) => cert.reference === c.reference)?.notAfter ?? null,
      // The cluster's last probe (GET …/clusters/{c}/status has the same).
      'cluster-health': clusterHealthView(health.get(`${c.provider}/${c.cluster}`)),
      resources: c.resources,
      // The first LIMITS.statusWarnings warnings are kept; warningsOmitted counts the others.
      warnings: c.warnings.map((w) => w.message),
      warningsOmitted: c.warningsOmitted ?? 0,
      errors: c.resources
        .filter((r) => r.message && (r.status === 'Failed' || r.status === 'DeleteFailed'))
        .map((r) => `${r.kind} ${r.name}: ${r.message}`),
    })),
    // With spec.clusterSelector: the clusters in (Pending while unreachable), out and why, and the last change.
    ...(selection
      ? {
          clusterSelection: {
            selected: selection.selected.map((c) => ({
              'cluster-provider': c.provider,
              cluster: c.cluster,
              state: c.pending ? ('Pending' as const) : ('Selected' as const),
              ...(c.pending ? { reason: c.pending } : {}),
            })),
            notSelected: selection.excluded.map((c) => ({
              'cluster-provider': c.provider,
              cluster: c.cluster,
              reason: c.reason,
              message: c.message,
            })),
            changedAt: selection.changedAt.toISOString(),
            cause: selection.cause,
          },
        }
      : {}),
    drift: drift.map((d) => ({
      'cluster-reference': d.reference,
      'cluster-provider': d.provider,
      cluster: d.cluster,
      kind: d.kind,
      name: d.namespace ? `${d.namespace}/${d.name}` : d.name,
      change: d.change,
      details: d.details,
      action: d.action,
      ...(d.message !== undefined ? { message: d.message } : {}),
      'detected-at': d.detectedAt.toISOString(),
    })),
    overallQuotas: overallQuotas ?? [],
  };
}
