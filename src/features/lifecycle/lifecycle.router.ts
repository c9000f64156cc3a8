/** Design endpoints 2, 14 and 15 (and EMCO's instantiate/update/terminate and kubeconfig paths). */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Principal } from '../../auth/authorize.js';
import { callerOf } from '../../http/caller.js';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import { kubeconfigToJson, kubeconfigToYaml } from '../../kubeconfig/kubeconfig.js';
import { ClusterHealthSchema, clusterHealthView } from '../cluster-registry/cluster-health.router.js';
import { STATUS_TEXT, type LifecycleService, type LogicalCloudStatus, type OperationSummary } from './lifecycle.service.js';
import { downloadAs, DownloadRateLimitedError, type DownloadRateLimiter } from './tenant-kubeconfig.js';

const LC = '/projects/:project/logical-clouds/:logicalCloud';

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

const LIFECYCLE_STATES = ['Created', 'Instantiating', 'Instantiated', 'InstantiateFailed', 'Terminating', 'Terminated', 'TerminateFailed'] as const;
const CLUSTER_STATES = ['Pending', 'Applying', 'Applied', 'Failed', 'Terminating', 'Terminated', 'TerminateFailed'] as const;
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
          category: z.enum(['namespace', 'user-certificate', 'role', 'role-binding', 'quota', 'isolation', 'ca', 'mesh']),
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
});

/** A kubeconfig as JSON (Accept: application/json); as YAML (the default) it is the same mapping, so the same schema. */
const KubeconfigJson = z.looseObject({ apiVersion: z.string(), kind: z.literal('Config'), clusters: z.array(z.unknown()), contexts: z.array(z.unknown()), users: z.array(z.unknown()) });
const KUBECONFIG_CONTENT = { 'application/yaml': KubeconfigJson, 'application/json': KubeconfigJson };

/**
 * Operations take no body; EMCO clients send none, `{}` or `{"metadata":{"name":""}}`: any JSON object
 * is read and ignored, anything else (an array, a string…) is a 400.
 */
export const OperationRequest = z.looseObject({}).meta({ description: 'ignored: none, {} or emcoctl\'s {"metadata":{"name":""}} (any JSON object)' });

/** The body of POST …/revoke-credentials: none, `{}`, or what else to remove. */
export const RevokeRequest = z.strictObject({
  removeTenantIdentities: z
    .boolean()
    .optional()
    .meta({
      description:
        "Also remove, on every cluster, in the logical cloud's namespace: RoleBindings the DCM did not make that bind a ServiceAccount or User, and ServiceAccounts the DCM did not make (but default) with their token Secrets",
    }),
});

const KubeconfigQuery = z.object({ 'cluster-reference': z.string().min(1).max(128).optional() });

/** The body of GET …/status (design 15): overall status, then per cluster and resource. */
export function statusView({ logicalCloud, status, credentials, health, drift }: LogicalCloudStatus) {
  const summarize = (resources: { category: string; status: string }[], category: string) => {
    const mine = resources.filter((r) => r.category === category);
    if (mine.length === 0) return 'None';
    if (mine.some((r) => r.status === 'Failed' || r.status === 'DeleteFailed')) return 'Failed';
    return mine.every((r) => r.status === 'Deleted') ? 'Deleted' : mine.some((r) => r.status === 'Created') ? 'Created' : 'Deleted';
  };
  const meshStatus = (resources: { category: string; status: string }[]) => {
    const mesh = resources.filter((r) => r.category === 'mesh');
    for (const state of ['Pending', 'Ready'] as const) if (!mesh.some((r) => r.status === 'Failed' || r.status === 'DeleteFailed') && mesh.some((r) => r.status === state)) return state;
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
      'certificate-not-after': credentials?.certificates.find((cert) => cert.reference === c.reference)?.notAfter ?? null,
      // The cluster's last probe (GET …/clusters/{c}/status has the same).
      'cluster-health': clusterHealthView(health.get(`${c.provider}/${c.cluster}`)),
      resources: c.resources,
      // The first LIMITS.statusWarnings warnings are kept; warningsOmitted counts the others.
      warnings: c.warnings.map((w) => w.message),
      warningsOmitted: c.warningsOmitted ?? 0,
      errors: c.resources.filter((r) => r.message && (r.status === 'Failed' || r.status === 'DeleteFailed')).map((r) => `${r.kind} ${r.name}: ${r.message}`),
    })),
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
  };
}

export interface LifecycleRouteOptions {
  /** Token users' kubeconfig downloads per (caller, logical cloud); beyond, 429 with Retry-After. */
  kubeconfigDownloads?: DownloadRateLimiter;
}

/** A download refused by the rate limit, as a REST answer. */
const TOO_MANY_DOWNLOADS = {
  description: "Too many downloads of a token user's kubeconfig by this caller (DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE); Retry-After says when to try again",
};

export function declareLifecycleRoutes(router: Router, registry: OpenApiRegistry, lifecycle: LifecycleService, options: LifecycleRouteOptions = {}): void {
  const p = (req: Request) => req.params as { project: string; logicalCloud: string; reference?: string };

  const operation = (path: string, summary: string, status: 200 | 202, run: (project: string, lc: string, caller: Principal) => Promise<OperationSummary>) =>
    declareRoute(
      router,
      registry,
      API_PREFIX,
      {
        method: 'post',
        path: `${LC}/${path}`,
        tag: 'Lifecycle',
        summary,
        body: OperationRequest,
        bodyRequired: false,
        examples: { none: {}, emcoctl: { metadata: { name: '' } } },
        responses: { [status]: { description: 'Accepted; follow GET …/status', schema: OperationBody }, 409: { description: 'Precondition or state conflict' } },
      },
      async (req, res) => {
        parseInput(OperationRequest, req.body);
        const result = await run(p(req).project, p(req).logicalCloud, callerOf(res));
        res.status(status).json(operationBody(result));
      },
    );
  operation('apply', 'Apply the logical cloud to its clusters (design 14); idempotent, converges after changes', 200, (pr, lc, caller) => lifecycle.apply(pr, lc, caller));
  operation('instantiate', 'EMCO name of apply', 202, (pr, lc, caller) => lifecycle.apply(pr, lc, caller));
  operation('update', 'EMCO name of re-apply after changes', 202, (pr, lc, caller) => lifecycle.apply(pr, lc, caller));
  operation('terminate', 'Remove everything the DCM created on the clusters', 202, (pr, lc) => lifecycle.terminate(pr, lc));
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'post',
      path: `${LC}/revoke-credentials`,
      tag: 'Lifecycle',
      summary:
        "Revoke the tenant's credentials: a new key and group, new certificates on every cluster, bindings moved; every earlier kubeconfig stops working. With removeTenantIdentities, also what the tenant made itself (ServiceAccounts, their tokens, their bindings)",
      body: RevokeRequest,
      bodyRequired: false,
      examples: { none: {}, cleanUp: { removeTenantIdentities: true } },
      responses: { 202: { description: 'Accepted; follow GET …/status', schema: OperationBody }, 409: { description: 'Precondition or state conflict' } },
    },
    async (req, res) => {
      const body = parseInput(RevokeRequest, req.body);
      const result = await lifecycle.revokeCredentials(p(req).project, p(req).logicalCloud, callerOf(res), body);
      res.status(202).json(operationBody(result));
    },
  );
  operation('stop', 'EMCO: the operation under way starts no further cluster; the clusters it did not reach end Failed', 200, (pr, lc) => lifecycle.stop(pr, lc));

  declareRoute(
    router,
    registry,
    API_PREFIX,
    { method: 'get', path: `${LC}/status`, tag: 'Lifecycle', summary: 'Status of the last operation, per cluster and resource (design 15)', responses: { 200: { description: 'Status', schema: StatusBody } } },
    async (req, res) => {
      res.json(statusView(await lifecycle.getStatus(p(req).project, p(req).logicalCloud)));
    },
  );

  const sendKubeconfig = async (req: Request, res: Response, reference: string | undefined) => {
    const caller = callerOf(res);
    let kubeconfig;
    try {
      // A token user's download mints a token on every cluster: counted per (caller, logical cloud).
      kubeconfig = await downloadAs(options.kubeconfigDownloads, `${caller.source}:${caller.name}`, () =>
        lifecycle.kubeconfig(p(req).project, p(req).logicalCloud, reference),
      );
    } catch (error) {
      if (!(error instanceof DownloadRateLimitedError)) throw error;
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
      res.status(429).json({ name: error.name, message: error.message, details: [] });
      return;
    }
    const filename = `${p(req).logicalCloud}${reference ? `-${reference}` : ''}.kubeconfig`;
    res.setHeader('Content-Disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
    res.setHeader('Cache-Control', 'no-store');
    const accept = req.headers.accept ?? '';
    if (accept.includes('application/json') && !accept.includes('yaml')) res.type('application/json').send(kubeconfigToJson(kubeconfig));
    else res.type('application/yaml').send(kubeconfigToYaml(kubeconfig));
  };

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: `${LC}/kubeconfig`,
      tag: 'Lifecycle',
      summary: "The tenant's kubeconfig (design 2): one cluster with ?cluster-reference=, else a context per cluster; YAML, or JSON with Accept: application/json",
      query: { 'cluster-reference': { description: 'a cluster reference of the logical cloud', schema: KubeconfigQuery.shape['cluster-reference'] } },
      responses: { 200: { description: 'kubeconfig', content: KUBECONFIG_CONTENT }, 409: { description: 'Not applied yet / no certificate yet' }, 429: TOO_MANY_DOWNLOADS },
    },
    async (req, res) => {
      const query = parseInput(KubeconfigQuery, req.query, 'query');
      await sendKubeconfig(req, res, query['cluster-reference']);
    },
  );
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: `${LC}/cluster-references/:reference/kubeconfig`,
      tag: 'Lifecycle',
      summary: 'EMCO path of the kubeconfig of one cluster reference',
      responses: { 200: { description: 'kubeconfig', content: KUBECONFIG_CONTENT }, 409: { description: 'Not applied yet / no certificate yet' }, 429: TOO_MANY_DOWNLOADS },
    },
    async (req, res) => sendKubeconfig(req, res, p(req).reference),
  );
}
