/**
 * User controller: the tenant's identity on a cluster. One private key per logical cloud and
 * credential generation (node:crypto), a CSR with CN = `dcm:<project>:<lc>:<user>` and O = the
 * generation's group (domain/tenant-identity.ts), and a certificate: from the cluster's CSR
 * API (signer kubernetes.io/kube-apiserver-client, approved by the DCM, waited for by watch),
 * or signed by the DCM itself when the cluster was registered with its CA key. A valid
 * certificate of the current generation is reused on re-apply.
 */
import type { KeyObject } from 'node:crypto';
import {
  certificateMatchesKey,
  createCsr,
  describeCertificate,
  generatePrivateKey,
  publicKeyOfPrivate,
  signCsrLocally,
  verifyIssuedBy,
} from '../certificates/certificates.js';
import type { LogicalCloudRecord } from '../domain/logical-cloud.js';
import {
  renewalTime,
  type CredentialGeneration,
  type Credentials,
  type IssuedCertificate,
} from '../domain/tenant-credentials.js';
import { tenantGroup, tenantServiceAccount, tenantUserName, type TenantIdentity } from '../domain/tenant-identity.js';
import { ClusterError } from '../kubernetes/cluster-errors.js';
import { pruneObjects, reconcileObjects, type ClusterContext, type ManagedKind } from './cluster-context.js';
import { csrName } from './object-names.js';
import type { ServiceAccount } from './objects.js';

// The checks that a CSR read back is the DCM's own live with the gateway, which makes them.
export { csrMismatch, type SubmittedCsr } from '../kubernetes/csr-signing.js';

/** What the user controller needs of the tenant credentials store (the lifecycle feature provides it). */
export interface TenantCredentialStore {
  get(logicalCloudId: string): Promise<Credentials | null>;
  /** The current credential generation, or a new one (new key) when `wanted` names another one or there is none. */
  prepareGeneration(
    logicalCloudId: string,
    keyBits: number,
    generate: () => Promise<string>,
    wanted?: string,
  ): Promise<CredentialGeneration>;
  putCertificate(logicalCloudId: string, issued: IssuedCertificate): Promise<void>;
  removeCertificate(logicalCloudId: string, reference: string): Promise<void>;
}

/** Why an issued certificate is not the tenant's (other key, other subject), or undefined. `key`: the tenant's private key (PEM) or its public key. */
export function certificateProblem(
  certificate: string,
  key: string | KeyObject,
  tenant: Pick<TenantIdentity, 'userName' | 'group'>,
): string | undefined {
  if (!certificateMatchesKey(certificate, key)) return "it does not carry the tenant's public key";
  const { subject } = describeCertificate(certificate);
  if (
    subject.commonName !== tenant.userName ||
    subject.organization?.length !== 1 ||
    subject.organization[0] !== tenant.group
  ) {
    return `its subject is CN=${subject.commonName ?? ''}, O=${(subject.organization ?? []).join('+')}`;
  }
  return undefined;
}

/** Token users' ServiceAccounts, reported with the user's credentials (user-certificate-status). */
const TENANT_SERVICE_ACCOUNTS: ManagedKind = {
  category: 'user-certificate',
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  namespaced: true,
};

export interface UserControllerOptions {
  keyBits: 2048 | 3072 | 4096;
  certificateValiditySeconds: number;
  /** How long to wait for a cluster to sign an approved CSR. */
  signTimeoutMs: number;
  /** Called between creating a CSR and reading it back for approval: a seam for tests that replace it meanwhile. */
  beforeApproval?: (csrName: string) => Promise<void>;
}

/**
 * What every cluster of one apply uses of the tenant's credentials: its stored certificates,
 * its public key and its CSR (the same for every cluster: same key, same subject). Read and
 * made once per apply, not once per cluster.
 */
interface ApplyCredentials {
  publicKey: KeyObject;
  csrPem: string;
  certificates: IssuedCertificate[];
}

export class UserController {
  /**
   * By the apply's tenant identity (one object per apply, shared by its clusters): gone with it.
   * Kept with the logical cloud they were read for: a tenant identity is never another logical
   * cloud's, and this makes sure no cluster of one is ever given another's CSR.
   */
  private readonly perApply = new WeakMap<
    TenantIdentity,
    { logicalCloudId: string; made: Promise<ApplyCredentials> }
  >();

  constructor(
    private readonly credentials: TenantCredentialStore,
    private readonly options: UserControllerOptions,
  ) {}

  /**
   * The tenant identity an apply works with (once per apply, before its clusters): the current
   * credential generation, or a new one (new key) when `wantedGeneration` names another one
   * (a revocation) or there is none yet.
   */
  async prepare(
    project: string,
    lc: LogicalCloudRecord,
    wantedGeneration?: string,
  ): Promise<TenantIdentity | undefined> {
    const user = lc.data.user;
    if (lc.data.level !== '1' || !user) return undefined;
    const { generation, generationId } = await this.credentials.prepareGeneration(
      lc.id,
      this.options.keyBits,
      () => generatePrivateKey(this.options.keyBits),
      wantedGeneration,
    );
    const group = tenantGroup(lc.id, generationId);
    const subject: TenantIdentity['subject'] =
      user.type === 'token'
        ? { kind: 'ServiceAccount', name: tenantServiceAccount(generationId), namespace: lc.data.namespace }
        : { kind: 'Group', name: group };
    return { userName: tenantUserName(project, lc.name, user.name), group, generation, subject };
  }

  async apply(ctx: ClusterContext): Promise<void> {
    const user = ctx.work.logicalCloud.data.user;
    const tenant = ctx.work.tenant;
    if (!user || !tenant) return;
    if (tenant.subject.kind === 'ServiceAccount') {
      await this.applyServiceAccount(ctx, tenant.subject.name);
      return;
    }
    const reference = ctx.work.reference.name;
    try {
      const { publicKey, csrPem, certificates } = await this.applyCredentials(ctx.identity.logicalCloudId, tenant);
      const caPem = ctx.work.cluster.data.certificateAuthorityData
        ? Buffer.from(ctx.work.cluster.data.certificateAuthorityData, 'base64').toString('utf8')
        : undefined;
      const stored = certificates.find((c) => c.reference === reference);
      if (stored && this.stillGood(stored.certificate, publicKey, caPem, tenant)) {
        ctx.record({
          category: 'user-certificate',
          kind: 'Certificate',
          name: user.name,
          status: 'Created',
          message: 'valid certificate reused',
        });
        return;
      }
      const caKey = ctx.work.clusterSecrets.caKey;
      const certificate =
        caKey && caPem
          ? signCsrLocally({
              csrPem,
              caCertPem: caPem,
              caKeyPem: caKey,
              validitySeconds: this.options.certificateValiditySeconds,
              usages: 'client',
            })
          : await this.signByCluster(ctx, csrPem, user.name);
      const issued = certificateProblem(certificate, publicKey, tenant);
      if (issued)
        throw new ClusterError(`the certificate the cluster issued is not the tenant's (${issued}): not stored`);
      const { notBefore, notAfter } = describeCertificate(certificate);
      await this.credentials.putCertificate(ctx.identity.logicalCloudId, {
        reference,
        certificate,
        notBefore,
        notAfter,
        signedBy: caKey && caPem ? 'dcm-with-cluster-ca' : 'cluster',
      });
      ctx.record({ category: 'user-certificate', kind: 'Certificate', name: user.name, status: 'Created' });
    } catch (error) {
      ctx.recordFailure({ category: 'user-certificate', kind: 'Certificate', name: user.name }, error);
    }
  }

  /** The apply's credentials, read and made by its first cluster; a failure is not kept (the next cluster tries again). */
  private applyCredentials(logicalCloudId: string, tenant: TenantIdentity): Promise<ApplyCredentials> {
    const known = this.perApply.get(tenant);
    if (known?.logicalCloudId === logicalCloudId) return known.made;
    const made = (async (): Promise<ApplyCredentials> => {
      const credentials = await this.credentials.get(logicalCloudId);
      if (!credentials)
        throw new ClusterError('the tenant credentials of this logical cloud are gone (terminated meanwhile?)');
      const privateKeyPem = credentials.privateKey;
      return {
        publicKey: publicKeyOfPrivate(privateKeyPem),
        csrPem: createCsr({ privateKeyPem, commonName: tenant.userName, organization: tenant.group }),
        certificates: credentials.certificates,
      };
    })();
    this.perApply.set(tenant, { logicalCloudId, made });
    made.catch(() => this.perApply.delete(tenant));
    return made;
  }

  /** Reusable: same key and subject (this generation's identity), issued by this cluster's CA, and not two thirds into its life. */
  private stillGood(certificate: string, key: KeyObject, caPem: string | undefined, tenant: TenantIdentity): boolean {
    try {
      const { notBefore, notAfter } = describeCertificate(certificate);
      const fresh = Date.now() < renewalTime({ notBefore, notAfter }).getTime();
      return (
        certificateProblem(certificate, key, tenant) === undefined &&
        (!caPem || verifyIssuedBy(certificate, caPem)) &&
        fresh
      );
    } catch {
      return false;
    }
  }

  private signByCluster(ctx: ClusterContext, csrPem: string, user: string): Promise<string> {
    return ctx.connection.signClientCertificate({
      name: csrName(ctx.identity, user),
      csrPem,
      labels: ctx.labels,
      // The CSR API takes no less than 600 s; a shorter lifetime only with local signing.
      expirationSeconds: this.options.certificateValiditySeconds,
      approvalMessage: `approved by the DCM for logical cloud ${ctx.identity.logicalCloud}`,
      signTimeoutMs: this.options.signTimeoutMs,
      ...(this.options.beforeApproval ? { beforeApproval: this.options.beforeApproval } : {}),
    });
  }

  private async deleteCsr(ctx: ClusterContext, name: string): Promise<void> {
    await ctx.connection.delete({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name });
  }

  /**
   * A token user: the generation's ServiceAccount; those of earlier generations are deleted, and
   * with them every token issued for them (bound tokens die with their account).
   */
  private async applyServiceAccount(ctx: ClusterContext, name: string): Promise<void> {
    const account: ServiceAccount = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: ctx.namespace, labels: ctx.labels },
    };
    await reconcileObjects(ctx, [TENANT_SERVICE_ACCOUNTS], [account]);
  }

  async remove(ctx: ClusterContext): Promise<void> {
    const user = ctx.work.logicalCloud.data.user;
    if (!user) return;
    if (user.type === 'token') {
      await pruneObjects(ctx, [TENANT_SERVICE_ACCOUNTS]);
      return;
    }
    try {
      await this.deleteCsr(ctx, csrName(ctx.identity, user.name));
      // A reference that now names another cluster keeps its certificate: it is (or is about to be) that cluster's.
      const { reference, cluster } = ctx.work;
      const movedAway =
        reference.data.clusterProvider !== cluster.scope.provider || reference.data.cluster !== cluster.name;
      if (!movedAway) await this.credentials.removeCertificate(ctx.identity.logicalCloudId, reference.name);
      ctx.record({ category: 'user-certificate', kind: 'Certificate', name: user.name, status: 'Deleted' });
    } catch (error) {
      ctx.recordFailure({ category: 'user-certificate', kind: 'Certificate', name: user.name }, error, 'DeleteFailed');
    }
  }
}
