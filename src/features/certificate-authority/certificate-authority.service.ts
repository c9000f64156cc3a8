/**
 * What the APIs offer of the service-mesh CA: the root (and the operator's chain), each
 * cluster's intermediate of a logical cloud — certificates, serials and validity, never a
 * key — and rotation: `rotate` marks the intermediates for re-issue and runs the normal apply.
 */
import {
  describeCaCertificate,
  type CaCertificateDescription,
} from '../../certificates/certificate-authority/ca-certificate-reader.js';
import { certificateChain } from '../../certificates/certificate-authority/intermediate-ca.js';
import { verifyIssuedBy } from '../../certificates/certificates.js';
import { controlPlaneNamespace, meshRevision, meshTrustDomain } from '../../controllers/object-names.js';
import type { NamedRecordStore } from '../../db/named-record-store.js';
import { ConflictError, NotFoundError, StateConflictError } from '../../errors.js';
import type { LifecycleService, OperationSummary } from '../lifecycle/lifecycle.service.js';
import type { Caller } from '../project-policies/project-policy.service.js';
import { meshEnabled, type ClusterReferenceData } from '../../domain/logical-cloud.js';
import type { LogicalCloudService } from '../logical-clouds/logical-cloud.service.js';
import type { ClusterKey, IntermediateCaStore } from './intermediate-ca.store.js';
import type { MeshCertificateAuthority, SignerSource } from './mesh-ca.js';

export interface RootCa {
  source: SignerSource;
  rootPem: string;
  root: CaCertificateDescription;
  /** The CA that signs the intermediates: the root itself, or the operator's CA. */
  signerPem: string;
  /** Above the signer up to the root (empty when the signer is the root). */
  chainPem: string[];
}

export interface ClusterCa {
  reference: string;
  provider: string;
  cluster: string;
  certificatePem: string;
  /** The intermediate, then every certificate above it up to the root (Istio's cert-chain.pem). */
  chainPem: string;
  description: CaCertificateDescription;
  issuedAt: Date;
  /** Issued by the CA that signs now (false after the signer changed: the next apply issues a new one). */
  current: boolean;
  rotationRequested: boolean;
}

export interface LogicalCloudCa {
  logicalCloud: string;
  serviceMesh: boolean;
  revision: string;
  trustDomain: string;
  controlPlaneNamespace: string;
  rootPem: string;
  clusters: ClusterCa[];
}

export type CaLifecycle = Pick<LifecycleService, 'apply' | 'getStatus'>;

export class CertificateAuthorityService {
  constructor(
    private readonly ca: MeshCertificateAuthority,
    private readonly intermediates: IntermediateCaStore,
    private readonly logicalClouds: LogicalCloudService,
    private readonly references: NamedRecordStore<ClusterReferenceData>,
    private readonly lifecycle: CaLifecycle,
  ) {}

  root(): RootCa {
    const signer = this.ca.signer;
    return {
      source: signer.source,
      rootPem: signer.rootPem,
      root: describeCaCertificate(signer.rootPem),
      signerPem: signer.certificatePem,
      chainPem: signer.chainPem,
    };
  }

  async logicalCloudCa(project: string, name: string): Promise<LogicalCloudCa> {
    const lc = await this.logicalClouds.resolve(project, name);
    const signer = this.ca.signer;
    const stored = await this.intermediates.list(lc.id);
    const id = { logicalCloudId: lc.id };
    return {
      logicalCloud: lc.name,
      serviceMesh: meshEnabled(lc.data),
      revision: meshRevision(id),
      trustDomain: meshTrustDomain(id),
      controlPlaneNamespace: controlPlaneNamespace(id),
      rootPem: signer.rootPem,
      clusters: stored.map((s) => ({
        reference: s.reference,
        provider: s.provider,
        cluster: s.cluster,
        certificatePem: s.certificate,
        chainPem: certificateChain(s.certificate, signer),
        description: describeCaCertificate(s.certificate),
        issuedAt: s.issuedAt,
        current: safeIssuedBy(s.certificate, signer.certificatePem),
        rotationRequested: s.rotationRequestedAt !== undefined,
      })),
    };
  }

  /**
   * Marks the intermediates of the logical cloud (or of one cluster reference) for re-issue
   * and starts the normal apply, which issues and delivers new ones. Only for an applied,
   * mesh-enabled logical cloud with no operation under way.
   */
  async rotate(
    project: string,
    name: string,
    reference: string | undefined,
    caller: Caller,
  ): Promise<{ summary: OperationSummary; references: string[] }> {
    const lc = await this.logicalClouds.resolve(project, name);
    if (!meshEnabled(lc.data)) {
      throw new StateConflictError(
        `Logical Cloud ${name} has no service mesh (spec.serviceMesh.enabled is not true): it has no CA to rotate`,
      );
    }
    const refs = (await this.references.list({ logicalCloudId: lc.id })).items;
    const chosen = reference === undefined ? refs : refs.filter((r) => r.name === reference);
    if (reference !== undefined && chosen.length === 0)
      throw new NotFoundError(`Cluster reference ${reference} not found in Logical Cloud ${name}`);
    const { status } = await this.lifecycle.getStatus(project, name);
    if (status?.operation.inProgress)
      throw new ConflictError(`an operation on Logical Cloud ${name} is already in progress`);
    if (!status || (status.state !== 'Instantiated' && status.state !== 'InstantiateFailed')) {
      throw new StateConflictError(
        `Logical Cloud ${name} is not applied (${status?.state ?? 'Created'}); apply it before rotating its CA`,
      );
    }
    const at = new Date();
    const clusters: ClusterKey[] | undefined =
      reference === undefined
        ? undefined
        : chosen.map((r) => ({ provider: r.data.clusterProvider, cluster: r.data.cluster }));
    await this.intermediates.requestRotation(lc.id, at, clusters);
    try {
      const summary = await this.lifecycle.apply(project, name, caller);
      return { summary, references: chosen.map((r) => r.name) };
    } catch (error) {
      // The apply did not start: nothing is rotated behind the caller's back later.
      await this.intermediates.cancelRotation(lc.id, at).catch(() => undefined);
      throw error;
    }
  }
}

function safeIssuedBy(certificatePem: string, signerPem: string): boolean {
  try {
    return verifyIssuedBy(certificatePem, signerPem);
  } catch {
    return false;
  }
}
