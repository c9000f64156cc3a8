/** Design endpoints 2, 14 and 15 (and EMCO's instantiate/update/terminate and kubeconfig paths). */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Principal } from '../../auth/authorize.js';
import { callerOf } from '../../http/caller.js';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import { kubeconfigToJson, kubeconfigToYaml } from '../../kubeconfig/kubeconfig.js';
import { STATUS_TEXT, type LifecycleService, type LogicalCloudStatus, type OperationSummary } from './lifecycle.service.js';

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

const KubeconfigQuery = z.object({ 'cluster-reference': z.string().min(1).max(128).optional() });

/** The body of GET …/status (design 15): overall status, then per cluster and resource. */
export function statusView({ logicalCloud, status, credentials }: LogicalCloudStatus) {
  const summarize = (resources: { category: string; status: string }[], category: string) => {
    const mine = resources.filter((r) => r.category === category);
    if (mine.length === 0) return 'None';
    if (mine.some((r) => r.status === 'Failed' || r.status === 'DeleteFailed')) return 'Failed';
    return mine.every((r) => r.status === 'Deleted') ? 'Deleted' : mine.some((r) => r.status === 'Created') ? 'Created' : 'Deleted';
  };
  return {
    metadata: { name: logicalCloud.name, description: logicalCloud.data.description },
    status: STATUS_TEXT[status?.state ?? 'Created'],
    state: status?.state ?? 'Created',
    operation: status?.operation ?? null,
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
      'mesh-status': summarize(c.resources, 'mesh'),
      'certificate-not-after': credentials?.certificates.find((cert) => cert.reference === c.reference)?.notAfter ?? null,
      resources: c.resources,
      // The first LIMITS.statusWarnings warnings are kept; warningsOmitted counts the others.
      warnings: c.warnings.map((w) => w.message),
      warningsOmitted: c.warningsOmitted ?? 0,
      errors: c.resources.filter((r) => r.message && (r.status === 'Failed' || r.status === 'DeleteFailed')).map((r) => `${r.kind} ${r.name}: ${r.message}`),
    })),
  };
}

export function declareLifecycleRoutes(router: Router, registry: OpenApiRegistry, lifecycle: LifecycleService): void {
  const p = (req: Request) => req.params as { project: string; logicalCloud: string; reference?: string };

  const operation = (path: string, summary: string, status: 200 | 202, run: (project: string, lc: string, caller: Principal) => Promise<OperationSummary>) =>
    declareRoute(
      router,
      registry,
      API_PREFIX,
      { method: 'post', path: `${LC}/${path}`, tag: 'Lifecycle', summary, responses: { [status]: { description: 'Accepted; follow GET …/status' }, 409: { description: 'Precondition or state conflict' } } },
      async (req, res) => {
        const result = await run(p(req).project, p(req).logicalCloud, callerOf(res));
        res.status(status).json(operationBody(result));
      },
    );
  operation('apply', 'Apply the logical cloud to its clusters (design 14); idempotent, converges after changes', 200, (pr, lc, caller) => lifecycle.apply(pr, lc, caller));
  operation('instantiate', 'EMCO name of apply', 202, (pr, lc, caller) => lifecycle.apply(pr, lc, caller));
  operation('update', 'EMCO name of re-apply after changes', 202, (pr, lc, caller) => lifecycle.apply(pr, lc, caller));
  operation('terminate', 'Remove everything the DCM created on the clusters', 202, (pr, lc) => lifecycle.terminate(pr, lc));
  operation(
    'revoke-credentials',
    "Revoke the tenant's credentials: a new key and group, new certificates on every cluster, bindings moved; every earlier kubeconfig stops working",
    202,
    (pr, lc, caller) => lifecycle.revokeCredentials(pr, lc, caller),
  );
  operation('stop', 'EMCO: the operation under way starts no further cluster; the clusters it did not reach end Failed', 200, (pr, lc) => lifecycle.stop(pr, lc));

  declareRoute(
    router,
    registry,
    API_PREFIX,
    { method: 'get', path: `${LC}/status`, tag: 'Lifecycle', summary: 'Status of the last operation, per cluster and resource (design 15)', responses: { 200: { description: 'Status' } } },
    async (req, res) => {
      res.json(statusView(await lifecycle.getStatus(p(req).project, p(req).logicalCloud)));
    },
  );

  const sendKubeconfig = async (req: Request, res: Response, reference: string | undefined) => {
    const kubeconfig = await lifecycle.kubeconfig(p(req).project, p(req).logicalCloud, reference);
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
      query: { 'cluster-reference': { description: 'a cluster reference of the logical cloud' } },
      responses: { 200: { description: 'kubeconfig', contentType: 'application/yaml' }, 409: { description: 'Not applied yet / no certificate yet' } },
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
      responses: { 200: { description: 'kubeconfig', contentType: 'application/yaml' } },
    },
    async (req, res) => sendKubeconfig(req, res, p(req).reference),
  );
}
