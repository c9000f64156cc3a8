/** The lifecycle of a logical cloud over gRPC: apply, terminate, status, kubeconfig, revoke. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { operationBody, RevokeRequest, statusView } from '../features/lifecycle/lifecycle.schema.js';
import type { LifecycleService, OperationSummary } from '../features/lifecycle/lifecycle.service.js';
import { downloadAs, type DownloadRateLimiter } from '../features/lifecycle/tenant-kubeconfig.js';
import { parseInput } from '../http/validation.js';
import { kubeconfigToYaml } from '../kubeconfig/kubeconfig.js';
import { fromStruct, toStruct, type ProtoStruct } from './struct.js';
import { LOGICAL_CLOUD_FIELDS, requireFields, type Request, type Unary } from './unary.js';

export interface StatusMessage {
  state: string;
  status: string;
  in_progress: boolean;
  body: ProtoStruct;
}

/** The status of a logical cloud as GetStatus and WatchStatus send it. */
export async function statusMessage(
  lifecycle: LifecycleService,
  project: string,
  logicalCloud: string,
): Promise<StatusMessage> {
  const body = statusView(await lifecycle.getStatus(project, logicalCloud));
  const inProgress = body.operation?.inProgress ?? false;
  return { state: body.state, status: body.status, in_progress: inProgress, body: toStruct(body) };
}

const operation = (summary: OperationSummary) => ({ state: summary.state, body: toStruct(operationBody(summary)) });

export function lifecycleHandlers(
  unary: Unary,
  lifecycle: LifecycleService,
  /** Token users' kubeconfig downloads per (caller, logical cloud), shared with REST. */
  kubeconfigDownloads: DownloadRateLimiter | undefined,
): UntypedServiceImplementation {
  const child = LOGICAL_CLOUD_FIELDS;
  return {
    Apply: unary('Apply', async (r: Request, caller) => {
      requireFields(r, child);
      return operation(await lifecycle.apply(r.project as string, r.logical_cloud as string, caller));
    }),
    Terminate: unary('Terminate', async (r: Request) => {
      requireFields(r, child);
      return operation(await lifecycle.terminate(r.project as string, r.logical_cloud as string));
    }),
    GetStatus: unary('GetStatus', async (r: Request) => {
      requireFields(r, child);
      return statusMessage(lifecycle, r.project as string, r.logical_cloud as string);
    }),
    GetKubeconfig: unary('GetKubeconfig', async (r: Request, caller) => {
      requireFields(r, child);
      const reference = (r.cluster_reference as string) || undefined;
      // A token user's download mints a token on every cluster: counted per (caller, logical cloud), with REST's.
      const kubeconfig = await downloadAs(kubeconfigDownloads, `${caller.source}:${caller.name}`, () =>
        lifecycle.kubeconfig(r.project as string, r.logical_cloud as string, reference),
      );
      return { yaml: kubeconfigToYaml(kubeconfig) };
    }),
    RevokeCredentials: unary('RevokeCredentials', async (r: Request & { body?: ProtoStruct | null }, caller) => {
      requireFields(r, child);
      const body = parseInput(RevokeRequest, fromStruct(r.body), 'body');
      return operation(await lifecycle.revokeCredentials(r.project as string, r.logical_cloud as string, caller, body));
    }),
  };
}
