/**
 * The CA behind every mesh-enabled logical cloud: the DCM's signer (its own root, generated
 * once and stored sealed, or an operator-supplied CA with its chain from files) and the
 * per-cluster intermediates it issues, stored sealed and delivered again as long as they are
 * good. Used by the CA controller (delivery) and by the CA service (REST/gRPC reads, rotation).
 */
import { readFileSync } from 'node:fs';
import { fitName } from '../../certificates/certificate-authority/ca-certificate-builder.js';
import { certificateHasNameConstraints } from '../../certificates/certificate-authority/ca-certificate-reader.js';
import {
  cacertsFiles,
  intermediateStillGood,
  issueIntermediateCa,
} from '../../certificates/certificate-authority/intermediate-ca.js';
import { createRootCa, loadCaSigner, type CaSigner } from '../../certificates/certificate-authority/root-ca.js';
import { CertificateError } from '../../certificates/pem.js';
import { ConfigError } from '../../config.js';
import { meshTrustDomain } from '../../controllers/object-names.js';
import { UnavailableError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ClusterKey, DeliveredIntermediate, MeshTarget } from '../../domain/mesh.js';
import type { IntermediateCaStore } from './intermediate-ca.store.js';
import type { RootCaStore } from './root-ca.store.js';

/** Where an operator-supplied CA comes from, as errors name it. */
const OPERATOR_CA_SOURCES = { certificate: 'DCM_CA_CERT_FILE', key: 'DCM_CA_KEY_FILE', chain: 'DCM_CA_CHAIN_FILE' };
/** Where the DCM's generated root comes from, as errors name it. */
const STORED_CA_SOURCES = {
  certificate: 'stored DCM root CA',
  key: 'stored DCM root CA key',
  chain: 'stored DCM root CA',
};

export interface MeshCaOptions {
  /** Operator-supplied CA: certificate, key and (unless the certificate is a root) its chain, as PEM files. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  chainFile?: string | undefined;
  rootValiditySeconds: number;
  intermediateValiditySeconds: number;
  /** Who generated the root (diagnostics). */
  replicaId: string;
}

export type SignerSource = 'generated' | 'operator';

export type { DeliveredIntermediate, MeshTarget } from '../../domain/mesh.js';

/** The SPIFFE-style URI an intermediate names itself with: trust domain, namespace and cluster of its logical cloud. */
export const intermediateUri = (target: Pick<MeshTarget, 'logicalCloudId' | 'namespace' | 'clusterName'>): string =>
  `spiffe://${meshTrustDomain(target)}/ns/${encodeURIComponent(target.namespace)}/cluster/${encodeURIComponent(target.clusterName)}`;

/** Whether a certificate (PEM) carries a name-constraints extension. */
export const hasNameConstraints = (certificatePem: string): boolean => certificateHasNameConstraints(certificatePem);

function readPem(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${variable}: cannot read ${file}: ${(error as Error).message}`);
  }
}

export class MeshCertificateAuthority {
  private current: (CaSigner & { source: SignerSource }) | undefined;

  constructor(
    private readonly roots: RootCaStore,
    private readonly intermediates: IntermediateCaStore,
    private readonly options: MeshCaOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * Loads the signer: the operator's CA when configured (checked: a CA that may sign CAs,
   * its key, a chain up to a self-signed root, valid now), else the DCM's root, generated on
   * the first start of the first replica. Throws ConfigError on a bad operator CA.
   */
  async initialize(): Promise<void> {
    const { certFile, keyFile, chainFile } = this.options;
    if (certFile || keyFile || chainFile) {
      if (!certFile || !keyFile)
        throw new ConfigError('DCM_CA_CERT_FILE and DCM_CA_KEY_FILE go together (DCM_CA_CHAIN_FILE is optional)');
      const input = {
        certificatePem: readPem(certFile, 'DCM_CA_CERT_FILE'),
        keyPem: readPem(keyFile, 'DCM_CA_KEY_FILE'),
        chainPem: chainFile ? readPem(chainFile, 'DCM_CA_CHAIN_FILE') : undefined,
      };
      try {
        this.current = {
          ...loadCaSigner(input, OPERATOR_CA_SOURCES),
          source: 'operator',
        };
      } catch (error) {
        if (error instanceof CertificateError) throw new ConfigError(`operator-supplied CA: ${error.message}`);
        throw error;
      }
      this.logger.info({ chain: this.current.chainPem.length }, 'service-mesh CA: operator-supplied CA loaded');
      return;
    }
    const root = await this.roots.ensure(
      () =>
        createRootCa({
          subject: { organization: 'DCM', commonName: 'DCM service mesh root CA' },
          validitySeconds: this.options.rootValiditySeconds,
        }),
      this.options.replicaId,
    );
    try {
      this.current = {
        ...loadCaSigner(root, STORED_CA_SOURCES),
        source: 'generated',
      };
    } catch (error) {
      if (error instanceof CertificateError)
        throw new ConfigError(
          `${error.message}; configure an operator-supplied CA (DCM_CA_CERT_FILE, DCM_CA_KEY_FILE)`,
        );
      throw error;
    }
    if (root.created) this.logger.info('service-mesh CA: generated the DCM root CA');
  }

  /** The CA that signs intermediates now. */
  get signer(): CaSigner & { source: SignerSource } {
    if (!this.current) throw new UnavailableError('the service-mesh CA is not initialized yet');
    return this.current;
  }

  /**
   * The cluster's intermediate for the logical cloud: the stored one while it is good (key
   * matches, issued by the current signer, not in the last fifth of its life, no rotation
   * asked for, name constraint as the logical cloud asks), otherwise a new one, stored (key
   * sealed) before it is handed out.
   */
  async ensureIntermediate(target: MeshTarget): Promise<DeliveredIntermediate> {
    const signer = this.signer;
    const stored = await this.intermediates.get(target.logicalCloudId, target);
    if (
      stored &&
      !stored.rotationRequestedAt &&
      hasNameConstraints(stored.certificate) === target.nameConstraints &&
      intermediateStillGood({ certificatePem: stored.certificate, keyPem: stored.privateKey }, signer)
    ) {
      return {
        files: cacertsFiles({ certificatePem: stored.certificate, keyPem: stored.privateKey }, signer),
        serialNumber: stored.serialNumber,
        notAfter: stored.notAfter,
        reused: true,
      };
    }
    const issued = await issueIntermediateCa(signer, {
      subject: {
        organization: 'DCM',
        organizationalUnit: fitName(`${target.project}/${target.logicalCloud}`),
        commonName: fitName(`${target.logicalCloud} CA for ${target.clusterName}`),
      },
      uri: intermediateUri(target),
      // The name constraint: permitted URI names only in the logical cloud's trust domain (sidecar mode); none for ambient mode.
      ...(target.nameConstraints ? { trustDomain: meshTrustDomain(target) } : {}),
      validitySeconds: this.options.intermediateValiditySeconds,
    });
    await this.intermediates.put({
      logicalCloudId: target.logicalCloudId,
      provider: target.provider,
      cluster: target.cluster,
      reference: target.reference,
      certificate: issued.certificatePem,
      privateKey: issued.keyPem,
      serialNumber: issued.serialNumber,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      issuedAt: new Date(),
    });
    return {
      files: cacertsFiles(issued, signer),
      serialNumber: issued.serialNumber,
      notAfter: issued.notAfter,
      reused: false,
    };
  }

  /** Whether an intermediate of the logical cloud is stored for the cluster (then objects of it may be there). */
  holds(logicalCloudId: string, key: ClusterKey): Promise<boolean> {
    return this.intermediates.exists(logicalCloudId, key);
  }

  /** Forgets the cluster's intermediate once everything of it is gone from the cluster. */
  forget(logicalCloudId: string, key: ClusterKey): Promise<void> {
    return this.intermediates.delete(logicalCloudId, key);
  }
}
