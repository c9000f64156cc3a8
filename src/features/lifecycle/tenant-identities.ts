/**
 * Revocation that cleans up (`POST …/revoke-credentials` with `{"removeTenantIdentities": true}`):
 * once a cluster has the new credential generation, the identities the tenant made for itself in
 * the logical cloud's namespace are removed there, so that none of them outlives the revocation:
 *
 * - RoleBindings the DCM did not make that bind a ServiceAccount (or a service-account group,
 *   `system:serviceaccounts[:…]`), a User, or the group of an earlier credential generation of
 *   this logical cloud (`dcm:lc:<id>:<other generation>`), to any role;
 * - ServiceAccounts the DCM did not make, except `default` (which the cluster keeps anyway);
 * - token Secrets (type `kubernetes.io/service-account-token`) of those accounts and of `default`.
 *
 * What the DCM made is judged by what it applies now, not by labels alone (a tenant may put the
 * DCM's labels on its own objects): its RoleBindings are those of the logical cloud's namespaced
 * permissions, its ServiceAccount that of a token user's current generation, and either carries
 * this logical cloud's labels. Bindings go first (the access ends), then Secrets, then accounts.
 * Every object removed (or that could not be) is a line in the cluster's status.
 */
import { messageOf, type ClusterContext, type ResourceStatus } from '../../controllers/cluster-context.js';
import {
  LABEL_LOGICAL_CLOUD_ID,
  MANAGED_BY,
  MANAGED_BY_VALUE,
  namespacedObjectName,
} from '../../controllers/object-names.js';
import type { KubeObject } from '../../kubernetes/cluster-gateway.js';
import { tenantGroup } from '../../domain/tenant-identity.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
const SERVICE_ACCOUNT_ANNOTATION = 'kubernetes.io/service-account.name';
/** Says, on every line this step writes, why the object went. */
export const REMOVED_MESSAGE = 'made by the tenant, not the DCM: removed with the revocation (removeTenantIdentities)';

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface Listed extends KubeObject {
  type?: string;
  subjects?: Subject[];
}

/** An object this step removed, as status and audit name it: `Kind namespace/name`. */
export type RemovedIdentity = string;

function ownedByThisLogicalCloud(ctx: ClusterContext, object: KubeObject): boolean {
  const labels = object.metadata?.labels ?? {};
  return labels[MANAGED_BY] === MANAGED_BY_VALUE && labels[LABEL_LOGICAL_CLOUD_ID] === ctx.identity.logicalCloudId;
}

/** The subject of a binding that is an identity: an account, a user, an account group, or an earlier generation's group. */
function identitySubject(ctx: ClusterContext, subject: Subject): string | undefined {
  const name = subject.name ?? '';
  if (subject.kind === 'ServiceAccount') return `ServiceAccount ${subject.namespace ?? ctx.namespace}/${name}`;
  if (subject.kind === 'User') return `User ${name}`;
  if (subject.kind !== 'Group') return undefined;
  if (name === 'system:serviceaccounts' || name.startsWith('system:serviceaccounts:')) return `Group ${name}`;
  const ownPrefix = tenantGroup(ctx.identity.logicalCloudId, '');
  if (name.startsWith(ownPrefix) && name !== ctx.work.tenant?.group)
    return `Group ${name} (an earlier credential generation)`;
  return undefined;
}

/** Removes the tenant-made identities from the logical cloud's namespace on this cluster; answers what it removed. */
export async function removeTenantIdentities(ctx: ClusterContext): Promise<RemovedIdentity[]> {
  const namespace = ctx.namespace;
  const removed: RemovedIdentity[] = [];
  const remove = async (
    line: Omit<ResourceStatus, 'status' | 'message'>,
    ref: { apiVersion: string; kind: string; name: string },
    why: string,
  ) => {
    try {
      await ctx.connection.delete({ ...ref, namespace });
      ctx.record({ ...line, status: 'Deleted', message: `${why}; ${REMOVED_MESSAGE}` });
      removed.push(`${ref.kind} ${namespace}/${ref.name}`);
    } catch (error) {
      ctx.record({ ...line, status: 'DeleteFailed', message: `${why}; not removed: ${messageOf(error)}` });
    }
  };
  const list = async (
    apiVersion: string,
    kind: string,
    category: ResourceStatus['category'],
  ): Promise<Listed[] | undefined> => {
    try {
      return await ctx.connection.list<Listed>(apiVersion, kind, { namespace });
    } catch (error) {
      ctx.record({
        category,
        kind,
        name: '*',
        status: 'DeleteFailed',
        message: `the tenant's ${kind}s could not be listed: ${messageOf(error)}`,
      });
      return undefined;
    }
  };

  // The DCM's own: what the apply that just ran made (and labelled) here.
  const ownBindings = new Set(
    ctx.work.permissions.filter((p) => p.data.namespace !== '').map((p) => namespacedObjectName('permission', p.name)),
  );
  const ownAccount = ctx.work.tenant?.subject.kind === 'ServiceAccount' ? ctx.work.tenant.subject.name : undefined;
  const dcmMade = (object: Listed, own: (name: string) => boolean) =>
    ownedByThisLogicalCloud(ctx, object) && own(object.metadata?.name ?? '');

  for (const binding of (await list(RBAC, 'RoleBinding', 'role-binding')) ?? []) {
    const name = binding.metadata?.name;
    if (!name || dcmMade(binding, (n) => ownBindings.has(n))) continue;
    const bound = (binding.subjects ?? [])
      .map((s) => identitySubject(ctx, s))
      .filter((s): s is string => s !== undefined);
    if (bound.length === 0) continue;
    await remove(
      { category: 'role-binding', kind: 'RoleBinding', name },
      { apiVersion: RBAC, kind: 'RoleBinding', name },
      `binds ${bound.slice(0, 3).join(', ')}${bound.length > 3 ? ', …' : ''}`,
    );
  }

  const accounts = (await list('v1', 'ServiceAccount', 'user-certificate')) ?? [];
  const doomed = new Set(
    accounts
      .filter((a) => a.metadata?.name && a.metadata.name !== 'default' && !dcmMade(a, (n) => n === ownAccount))
      .map((a) => a.metadata!.name!),
  );
  const secrets = (await list('v1', 'Secret', 'user-certificate')) ?? [];
  for (const secret of secrets) {
    const name = secret.metadata?.name;
    const account = secret.metadata?.annotations?.[SERVICE_ACCOUNT_ANNOTATION];
    if (
      !name ||
      secret.type !== TOKEN_SECRET_TYPE ||
      account === undefined ||
      !(doomed.has(account) || account === 'default')
    )
      continue;
    await remove(
      { category: 'user-certificate', kind: 'Secret', name },
      { apiVersion: 'v1', kind: 'Secret', name },
      `a token Secret of ServiceAccount ${account}`,
    );
  }
  for (const name of doomed) {
    await remove(
      { category: 'user-certificate', kind: 'ServiceAccount', name },
      { apiVersion: 'v1', kind: 'ServiceAccount', name },
      'a ServiceAccount',
    );
  }
  return removed;
}
