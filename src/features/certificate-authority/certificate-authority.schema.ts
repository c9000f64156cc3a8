/** The service-mesh CA as the APIs show it (certificates only: never a key), and the rotate-ca request. */
import { z } from 'zod';
import type { CaCertificateDescription } from '../../certificates/certificate-authority/ca-certificate-reader.js';
import { resourceName } from '../../validation/record-metadata.js';
import { OperationBody, operationBody } from '../lifecycle/lifecycle.schema.js';
import type { CertificateAuthorityService, LogicalCloudCa, RootCa } from './certificate-authority.service.js';

/** Unknown parameters are refused: a misspelt cluster-reference must not rotate every cluster. */
export const RotateCaQuery = z.strictObject({ 'cluster-reference': resourceName.optional() });
/** The same rule for gRPC's RotateCaRequest (fields named as in the .proto). */
export const GrpcRotateCaRequest = z.object({ cluster_reference: resourceName.optional() });

const Described = {
  subject: z.string(),
  issuer: z.string(),
  'serial-number': z.string(),
  'not-before': z.iso.datetime(),
  'not-after': z.iso.datetime(),
  uris: z.array(z.string()),
  'sha256-fingerprint': z.string(),
};

/** GET /ca/root's body. */
export const RootCaBody = z.strictObject({
  source: z.enum(['generated', 'operator']),
  'root-certificate': z.string(),
  ...Described,
  'signer-certificate': z.string(),
  'signer-chain': z.array(z.string()),
});

/** GET …/ca's body: certificates only, never a key. */
export const LogicalCloudCaBody = z.strictObject({
  'logical-cloud-name': z.string(),
  'service-mesh': z.boolean(),
  revision: z.string(),
  'trust-domain': z.string(),
  'control-plane-namespace': z.string(),
  'root-certificate': z.string(),
  clusters: z.array(
    z.strictObject({
      'cluster-reference': z.string(),
      'cluster-provider': z.string(),
      cluster: z.string(),
      certificate: z.string(),
      'cert-chain': z.string(),
      ...Described,
      'issued-at': z.iso.datetime(),
      current: z.boolean(),
      'rotation-requested': z.boolean(),
    }),
  ),
});

/** POST …/rotate-ca's body: the operation and the references whose CA is renewed. */
export const RotateCaBody = OperationBody.extend({ 'rotate-ca': z.array(z.string()) });

const describe = (d: CaCertificateDescription) => ({
  subject: d.subject,
  issuer: d.issuer,
  'serial-number': d.serialNumber,
  'not-before': d.notBefore.toISOString(),
  'not-after': d.notAfter.toISOString(),
  uris: d.uris,
  'sha256-fingerprint': d.sha256Fingerprint,
});

export const rootCaView = (root: RootCa) => ({
  source: root.source,
  'root-certificate': root.rootPem,
  ...describe(root.root),
  'signer-certificate': root.signerPem,
  'signer-chain': root.chainPem,
});

export const logicalCloudCaView = (ca: LogicalCloudCa) => ({
  'logical-cloud-name': ca.logicalCloud,
  'service-mesh': ca.serviceMesh,
  revision: ca.revision,
  'trust-domain': ca.trustDomain,
  'control-plane-namespace': ca.controlPlaneNamespace,
  'root-certificate': ca.rootPem,
  clusters: ca.clusters.map((c) => ({
    'cluster-reference': c.reference,
    'cluster-provider': c.provider,
    cluster: c.cluster,
    certificate: c.certificatePem,
    'cert-chain': c.chainPem,
    ...describe(c.description),
    'issued-at': c.issuedAt.toISOString(),
    current: c.current,
    'rotation-requested': c.rotationRequested,
  })),
});

export const rotateCaBody = (result: Awaited<ReturnType<CertificateAuthorityService['rotate']>>) => ({
  ...operationBody(result.summary),
  'rotate-ca': result.references,
});
