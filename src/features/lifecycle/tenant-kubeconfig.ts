/**
 * The tenant's kubeconfig of a logical cloud: one entry per cluster reference where the tenant
 * has a credential now. A certificate user's entry carries the current generation's certificate
 * for that cluster and the generation's key; a token user's a new bound token of the
 * generation's ServiceAccount, requested from the cluster at every download.
 */
import { NotFoundError, StateConflictError, UnavailableError } from '../../errors.js';
import { buildKubeconfig, type Kubeconfig, type KubeconfigEntry } from '../../kubeconfig/kubeconfig.js';
import type { ClusterGateway } from '../../kubernetes/cluster-gateway.js';
import { tenantServiceAccount } from '../../domain/tenant-identity.js';
import type { ClusterRecord, ClusterSecrets, ClusterService } from '../cluster-registry/cluster.service.js';
import type { ClusterReferenceRecord, LogicalCloudRecord } from '../logical-clouds/logical-cloud.model.js';
import type { LogicalCloudStores } from '../logical-clouds/logical-cloud.service.js';
import type { CredentialsStore } from './credentials.store.js';
import { STATUS_TEXT, type LifecycleStatusStore, type LifecycleState } from './lifecycle-status.store.js';

export interface TenantKubeconfigOptions {
  connect: (cluster: ClusterRecord, secrets: ClusterSecrets) => ClusterGateway;
  /** Lifetime asked for the bound tokens of token users' kubeconfigs. */
  tokenSeconds: number;
}

/** States in which a certificate user's certificates are handed out (an apply under way included: the certificate is already issued). */
const CERTIFICATE_STATES: LifecycleState[] = ['Instantiating', 'Instantiated', 'InstantiateFailed'];
/** States in which a token user's tokens are requested (its ServiceAccount certainly exists on an Applied cluster). */
const TOKEN_STATES: LifecycleState[] = ['Instantiated', 'InstantiateFailed'];

export class TenantKubeconfigs {
  constructor(
    private readonly references: Pick<LogicalCloudStores['clusterReferences'], 'list'>,
    private readonly clusters: Pick<ClusterService, 'get' | 'secretsOf'>,
    private readonly status: Pick<LifecycleStatusStore, 'get'>,
    private readonly credentials: Pick<CredentialsStore, 'get'>,
    private readonly options: TenantKubeconfigOptions,
  ) {}

  /** The kubeconfig for one cluster reference, or for every cluster with a credential; refuses when there is none yet. */
  async build(lc: LogicalCloudRecord, reference?: string): Promise<Kubeconfig> {
    const references = (await this.references.list({ logicalCloudId: lc.id })).items;
    const wanted = reference ? references.filter((r) => r.name === reference) : references;
    if (reference && wanted.length === 0) throw new NotFoundError(`Cluster reference ${reference} not found in Logical Cloud ${lc.name}`);
    const [doc, credentials] = await Promise.all([this.status.get(lc.id), this.credentials.get(lc.id)]);
    const entries: KubeconfigEntry[] = [];
    if (lc.data.user?.type === 'token') {
      for (const ref of wanted) {
        const placed = doc?.clusters.find((c) => c.reference === ref.name && c.state === 'Applied');
        if (!placed || !credentials?.generationId || !TOKEN_STATES.includes(doc!.state)) continue;
        entries.push(await this.tokenEntry(lc, ref, tenantServiceAccount(credentials.generationId)));
      }
    } else {
      for (const ref of wanted) {
        const certificate = credentials?.certificates.find((c) => c.reference === ref.name);
        if (!certificate || !doc || !CERTIFICATE_STATES.includes(doc.state)) continue;
        const cluster = await this.clusters.get(ref.data.clusterProvider, ref.data.cluster);
        entries.push({
          ...clusterPart(ref, cluster),
          userName: lc.data.user!.name,
          clientCertificatePem: certificate.certificate,
          clientKeyPem: credentials!.privateKey,
          namespace: lc.data.namespace,
        });
      }
    }
    if (entries.length === 0) {
      const state = STATUS_TEXT[doc?.state ?? 'Created'];
      const what = reference ? `cluster reference ${reference}` : 'any cluster';
      const credential = lc.data.user?.type === 'token' ? 'ServiceAccount' : 'certificate';
      throw new StateConflictError(`Logical Cloud ${lc.name} has no ${credential} for ${what} yet (status: ${state}); apply it and wait for Created`);
    }
    return buildKubeconfig(entries);
  }

  /** A token user's entry: a new bound token of the generation's ServiceAccount. */
  private async tokenEntry(lc: LogicalCloudRecord, ref: ClusterReferenceRecord, serviceAccount: string): Promise<KubeconfigEntry> {
    const cluster = await this.clusters.get(ref.data.clusterProvider, ref.data.cluster);
    const connection = this.options.connect(cluster, this.clusters.secretsOf(cluster));
    try {
      const token = await connection.requestToken(lc.data.namespace, serviceAccount, this.options.tokenSeconds);
      return { ...clusterPart(ref, cluster), userName: lc.data.user!.name, token, namespace: lc.data.namespace };
    } catch (error) {
      throw new UnavailableError(`no token could be had from cluster ${ref.data.cluster}: ${(error as Error).message}`);
    } finally {
      connection.close();
    }
  }
}

/** Where the entry's cluster is and how it is trusted; named after the reference. */
const clusterPart = (ref: ClusterReferenceRecord, cluster: ClusterRecord) => ({
  clusterName: ref.name,
  server: cluster.data.server,
  ...(cluster.data.certificateAuthorityData ? { certificateAuthorityData: cluster.data.certificateAuthorityData } : {}),
  ...(cluster.data.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
});
