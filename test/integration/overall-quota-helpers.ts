/**
 * Shared by the overall-quota integration tests (not a test file itself): a DCM whose second
 * cluster is registered through a TCP relay (so it can be made unreachable), a logical cloud
 * whose tenant may create and delete pods, and the tenant's and an admin's view of the pods and
 * budget quotas on the two real clusters.
 */
import { expect } from '@jest/globals';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { defaultConfig } from '../../src/config.js';
import { kubectl } from '../support/backends.js';
import { captureLogger, startTestDcm, type TestDcm } from '../support/dcm.js';
import type { OverallQuotaStatus } from '../../src/domain/overall-quota.js';
import { createProject, createProvider, kubeconfigText, lcPath } from '../support/rest.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import {
  applyAndSettle,
  core,
  removeLeftovers,
  tenantKubeconfig,
  tenantLogicalCloud,
  withServer,
  type ClusterIndex,
} from './apply-helpers.js';

export const REFERENCES = ['cluster-1', 'cluster-2'] as const;

export interface BudgetFixture {
  t: TestDcm;
  relay: TcpRelay;
  /** The DCM's log lines (the audit's among them). */
  logs: ReturnType<typeof captureLogger>;
  close(): Promise<void>;
}

/** A DCM with cluster-1 (direct) and cluster-2 (through a relay) of provider-1 in `project`. */
export async function startBudgetDcm(
  prefix: string,
  project: string,
  namespaces: string[],
  lcs: string[],
): Promise<BudgetFixture> {
  await removeLeftovers(namespaces, lcs);
  const server = new URL(/server: (\S+)/.exec(kubeconfigText(2))![1]!);
  const relay = await startTcpRelay({ host: '127.0.0.1', port: Number(server.port) });
  const logs = captureLogger('info');
  const t = await startTestDcm(prefix, {
    config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000, DCM_METRICS_REFRESH_MS: 0 },
    logger: logs.logger,
  });
  await createProject(t, project);
  await createProvider(t, 'provider-1');
  await t.http
    .post('/v2/cluster-providers/provider-1/clusters')
    .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1) } })
    .expect(201);
  await t.http
    .post('/v2/cluster-providers/provider-1/clusters')
    .send({
      metadata: { name: 'cluster-2' },
      spec: { kubeconfig: withServer(kubeconfigText(2), `https://127.0.0.1:${relay.port}`) },
    })
    .expect(201);
  return {
    t,
    relay,
    logs,
    close: async () => {
      await t.dcm.services.jobs.stop();
      await t.close();
      await relay.cut().catch(() => undefined);
      await removeLeftovers(namespaces, lcs);
    },
  };
}

/** A logical cloud referencing both clusters whose tenant may create, list and delete pods (not applied yet). */
export async function podTenant(t: TestDcm, project: string, lc: string, namespace: string): Promise<void> {
  const body = tenantLogicalCloud(lc, namespace, `user-${lc}`);
  body.spec.user['user-permissions'] = [
    {
      'permission-name': 'pods',
      apiGroups: [''],
      resources: ['pods', 'resourcequotas'],
      verbs: ['get', 'list', 'watch', 'create', 'delete', 'deletecollection'],
    },
  ];
  await t.http.post(`/v2/projects/${project}/logical-clouds`).send(body).expect(201);
  for (const name of REFERENCES)
    await t.http
      .post(`${lcPath(project, lc)}/cluster-references`)
      .send({ name })
      .expect(201);
}

/** Applies the logical cloud; returns the tenant's kubeconfig of each cluster. */

export async function applied(t: TestDcm, project: string, lc: string): Promise<string[]> {
  expect((await applyAndSettle(t, project, lc)).state).toBe('Instantiated');
  return Promise.all(REFERENCES.map((r) => tenantKubeconfig(t.http, project, lc, r)));
}

/** The tenant creates a pod with kubectl: true when admitted; a refusal must be the quota's. */
export async function kubectlRun(kubeconfig: string, name: string): Promise<boolean> {
  const res = await kubectl({ text: kubeconfig }, ['run', name, '--image=registry.invalid/none', '--restart=Never']);
  if (res.code === 0) return true;
  expect(res.stderr).toMatch(/exceeded quota/);
  return false;
}

export async function podCount(i: ClusterIndex, namespace: string): Promise<number> {
  return (await core(i).listNamespacedPod({ namespace })).items.filter((p) => !p.metadata?.deletionTimestamp).length;
}

export async function podNames(i: ClusterIndex, namespace: string): Promise<string[]> {
  return (await core(i).listNamespacedPod({ namespace })).items.map((p) => p.metadata!.name!);
}

export async function deletePods(i: ClusterIndex, namespace: string, names: string[]): Promise<void> {
  for (const name of names) await core(i).deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
}

/** The budget quota's `hard` and `used` for a key on a cluster, as an admin reads it. */
export async function budgetQuota(
  i: ClusterIndex,
  namespace: string,
  quota: string,
): Promise<{ spec?: string; status?: string; used?: string; key: (k: string) => number | undefined }> {
  const rq = await core(i)
    .readNamespacedResourceQuota({ name: `dcm-budget-${quota}`, namespace })
    .catch(() => undefined);
  return {
    spec: rq?.spec?.hard?.pods,
    status: rq?.status?.hard?.pods,
    used: rq?.status?.used?.pods,
    key: (k) => (rq?.spec?.hard?.[k] === undefined ? undefined : Number(rq.spec.hard[k])),
  };
}

/** The tenant's API client for a cluster (for the race test's fast loops). */
export function tenantApi(kubeconfig: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  return kc.makeApiClient(CoreV1Api);
}

/** The overall quotas section of the logical cloud's status. */
export async function budgetStatus(t: TestDcm, project: string, lc: string): Promise<OverallQuotaStatus[]> {
  const res = await t.http.get(`${lcPath(project, lc)}/status`).expect(200);
  return (res.body as { overallQuotas: OverallQuotaStatus[] }).overallQuotas;
}
