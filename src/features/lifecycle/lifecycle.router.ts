/** Design endpoints 2, 14 and 15 (and EMCO's instantiate/update/terminate and kubeconfig paths). */
import type { Request, Response, Router } from 'express';
import type { Principal } from '../../auth/authorize.js';
import { callerOf } from '../../http/caller.js';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import { kubeconfigToJson, kubeconfigToYaml } from '../../kubeconfig/kubeconfig.js';
import {
  KUBECONFIG_CONTENT,
  KubeconfigQuery,
  OperationBody,
  operationBody,
  OperationRequest,
  RevokeRequest,
  StatusBody,
  statusView,
} from './lifecycle.schema.js';
import type { LifecycleService, OperationSummary } from './lifecycle.service.js';
import { downloadAs, DownloadRateLimitedError, type DownloadRateLimiter } from './tenant-kubeconfig.js';

const LC = '/projects/:project/logical-clouds/:logicalCloud';

export interface LifecycleRouteOptions {
  /** Token users' kubeconfig downloads per (caller, logical cloud); beyond, 429 with Retry-After. */
  kubeconfigDownloads?: DownloadRateLimiter;
}

/** A download refused by the rate limit, as a REST answer. */
const TOO_MANY_DOWNLOADS = {
  description:
    "Too many downloads of a token user's kubeconfig by this caller (DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE); Retry-After says when to try again",
};

export function declareLifecycleRoutes(
  router: Router,
  registry: OpenApiRegistry,
  lifecycle: LifecycleService,
  options: LifecycleRouteOptions = {},
): void {
  const p = (req: Request) => req.params as { project: string; logicalCloud: string; reference?: string };

  const operation = (
    path: string,
    summary: string,
    status: 200 | 202,
    run: (project: string, lc: string, caller: Principal) => Promise<OperationSummary>,
  ) =>
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
        responses: {
          [status]: { description: 'Accepted; follow GET …/status', schema: OperationBody },
          409: { description: 'Precondition or state conflict' },
        },
      },
      async (req, res) => {
        parseInput(OperationRequest, req.body);
        const result = await run(p(req).project, p(req).logicalCloud, callerOf(res));
        res.status(status).json(operationBody(result));
      },
    );
  operation(
    'apply',
    'Apply the logical cloud to its clusters (design 14); idempotent, converges after changes',
    200,
    (pr, lc, caller) => lifecycle.apply(pr, lc, caller),
  );
  operation('instantiate', 'EMCO name of apply', 202, (pr, lc, caller) => lifecycle.apply(pr, lc, caller));
  operation('update', 'EMCO name of re-apply after changes', 202, (pr, lc, caller) => lifecycle.apply(pr, lc, caller));
  operation('terminate', 'Remove everything the DCM created on the clusters', 202, (pr, lc) =>
    lifecycle.terminate(pr, lc),
  );
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'post',
      path: `${LC}/revoke-credentials`,
      tag: 'Lifecycle',
      summary:
        "Revoke the tenant's credentials: a new key and group, new certificates on every cluster, bindings moved; " +
        'every earlier kubeconfig stops working. With removeTenantIdentities, also what the tenant made itself ' +
        '(ServiceAccounts, their tokens, their bindings)',
      body: RevokeRequest,
      bodyRequired: false,
      examples: { none: {}, cleanUp: { removeTenantIdentities: true } },
      responses: {
        202: { description: 'Accepted; follow GET …/status', schema: OperationBody },
        409: { description: 'Precondition or state conflict' },
      },
    },
    async (req, res) => {
      const body = parseInput(RevokeRequest, req.body);
      const result = await lifecycle.revokeCredentials(p(req).project, p(req).logicalCloud, callerOf(res), body);
      res.status(202).json(operationBody(result));
    },
  );
  operation(
    'stop',
    'EMCO: the operation under way starts no further cluster; the clusters it did not reach end Failed',
    200,
    (pr, lc) => lifecycle.stop(pr, lc),
  );

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: `${LC}/status`,
      tag: 'Lifecycle',
      summary: 'Status of the last operation, per cluster and resource (design 15)',
      responses: { 200: { description: 'Status', schema: StatusBody } },
    },
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
    if (accept.includes('application/json') && !accept.includes('yaml'))
      res.type('application/json').send(kubeconfigToJson(kubeconfig));
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
      summary:
        "The tenant's kubeconfig (design 2): one cluster with ?cluster-reference=, else a context per cluster; YAML, or JSON with Accept: application/json",
      query: {
        'cluster-reference': {
          description: 'a cluster reference of the logical cloud',
          schema: KubeconfigQuery.shape['cluster-reference'],
        },
      },
      responses: {
        200: { description: 'kubeconfig', content: KUBECONFIG_CONTENT },
        409: { description: 'Not applied yet / no certificate yet' },
        429: TOO_MANY_DOWNLOADS,
      },
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
      responses: {
        200: { description: 'kubeconfig', content: KUBECONFIG_CONTENT },
        409: { description: 'Not applied yet / no certificate yet' },
        429: TOO_MANY_DOWNLOADS,
      },
    },
    async (req, res) => sendKubeconfig(req, res, p(req).reference),
  );
}
