/** Namespace controller: the logical cloud's namespace, with its labels; removed (and waited for) on terminate. */
import { pairsToMap } from '../db/named-record-store.js';
import { meshEnabled } from '../domain/logical-cloud.js';
import { certainlyNotDone } from '../kubernetes/cluster-errors.js';
import type { ClusterContext } from './cluster-context.js';
import { CACERTS_SECRET, ISTIO_REVISION_LABEL, LABEL_LOGICAL_CLOUD_ID, meshRevision } from './object-names.js';
import { namespaceIsolationLabels } from './isolation.controller.js';
import type { Namespace } from './objects.js';

export type NamespaceOutcome = 'ready' | 'failed' | 'holds-ca-key';

export class NamespaceController {
  constructor(private readonly deleteTimeoutMs: number) {}

  /**
   * `failed` when the namespace could not be applied: nothing else can go in then. A namespace
   * of the same name that this logical cloud did not create is never taken over. `holds-ca-key`
   * when someone put an Istio CA key (a `cacerts` Secret) into the logical cloud's namespace: the
   * tenant's roles must not stay where they could read it.
   */
  async apply(ctx: ClusterContext): Promise<NamespaceOutcome> {
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace };
    const namespace: Namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ctx.namespace,
        labels: {
          ...pairsToMap(ctx.work.logicalCloud.data.labels),
          ...ctx.labels,
          // Sidecars of this namespace come from the logical cloud's own control plane (service-mesh controller).
          ...(meshEnabled(ctx.work.logicalCloud.data) ? { [ISTIO_REVISION_LABEL]: meshRevision(ctx.identity) } : {}),
          // Pod Security and the network mode: after the logical cloud's own labels, so no label can weaken them.
          ...namespaceIsolationLabels(ctx.work.logicalCloud.data),
        },
      },
    };
    try {
      const existing = await ctx.connection.read<Namespace>(ref);
      if (existing && existing.metadata?.labels?.[LABEL_LOGICAL_CLOUD_ID] !== ctx.identity.logicalCloudId) {
        ctx.nothingCreated = true;
        const message = `namespace ${ctx.namespace} already exists and is not managed by this logical cloud; it is not taken over (choose another namespace)`;
        ctx.record({ category: 'namespace', kind: 'Namespace', name: ctx.namespace, status: 'Failed', message });
        return 'failed';
      }
      if (
        existing &&
        (await ctx.connection.read({
          apiVersion: 'v1',
          kind: 'Secret',
          name: CACERTS_SECRET,
          namespace: ctx.namespace,
        }))
      ) {
        const message =
          `namespace ${ctx.namespace} holds a ${CACERTS_SECRET} Secret (an Istio CA key): the tenant's roles are ` +
          `not placed (and are removed) there; move the CA key out`;
        ctx.record({ category: 'namespace', kind: 'Namespace', name: ctx.namespace, status: 'Failed', message });
        return 'holds-ca-key';
      }
      await ctx.connection.apply(namespace);
      ctx.record({ category: 'namespace', kind: 'Namespace', name: ctx.namespace, status: 'Created' });
      return 'ready';
    } catch (error) {
      ctx.nothingCreated = certainlyNotDone(error);
      ctx.recordFailure({ category: 'namespace', kind: 'Namespace', name: ctx.namespace }, error);
      return 'failed';
    }
  }

  async remove(ctx: ClusterContext): Promise<void> {
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace };
    try {
      const existing = await ctx.connection.read<Namespace>(ref);
      // Only a namespace this logical cloud created is ever deleted; another one is not ours to remove.
      if (existing && existing.metadata?.labels?.[LABEL_LOGICAL_CLOUD_ID] !== ctx.identity.logicalCloudId) {
        const message = `namespace ${ctx.namespace} is not managed by this logical cloud; left in place`;
        ctx.warnings.push({ permission: '*', resource: 'namespaces', group: '', message });
        return;
      }
      // The namespace controller finalizes the deletion; terminate is done when it is gone.
      if (existing) await ctx.connection.deleteAndWait(ref, this.deleteTimeoutMs);
      ctx.record({ category: 'namespace', kind: 'Namespace', name: ctx.namespace, status: 'Deleted' });
    } catch (error) {
      ctx.recordFailure({ category: 'namespace', kind: 'Namespace', name: ctx.namespace }, error, 'DeleteFailed');
    }
  }
}
