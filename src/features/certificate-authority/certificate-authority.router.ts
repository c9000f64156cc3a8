/**
 * REST of the service-mesh CA: the root certificate, a logical cloud's per-cluster CA chains
 * (certificates only: no key is ever answered), and rotation before expiry.
 */
import type { Request, Router } from 'express';
import { z } from 'zod';
import type { CaCertificateDescription } from '../../certificates/certificate-authority.js';
import { callerOf } from '../../http/caller.js';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import { resourceName } from '../../validation/kubernetes-rules.js';
import { OperationBody, operationBody } from '../lifecycle/lifecycle.router.js';
import type { CertificateAuthorityService, LogicalCloudCa, RootCa } from './certificate-authority.service.js';

const LC = '/projects/:project/logical-clouds/:logicalCloud';

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

export function declareCertificateAuthorityRoutes(router: Router, registry: OpenApiRegistry, ca: CertificateAuthorityService): void {
  const p = (req: Request) => req.params as { project: string; logicalCloud: string };

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: '/ca/root',
      tag: 'Certificate authority',
      summary: "The DCM's service-mesh root certificate (PEM), and the operator's CA and chain when one signs the intermediates",
      responses: { 200: { description: 'Root certificate', schema: RootCaBody } },
    },
    (_req, res) => {
      res.json(rootCaView(ca.root()));
    },
  );

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: `${LC}/ca`,
      tag: 'Certificate authority',
      summary: "Each cluster's intermediate CA of the logical cloud: certificate, chain to the root, serial, validity (never a key)",
      responses: { 200: { description: 'CA chains', schema: LogicalCloudCaBody }, 404: { description: 'No such project or logical cloud' } },
    },
    async (req, res) => {
      res.json(logicalCloudCaView(await ca.logicalCloudCa(p(req).project, p(req).logicalCloud)));
    },
  );

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'post',
      path: `${LC}/rotate-ca`,
      tag: 'Certificate authority',
      summary: 'Issue new intermediate CAs (all clusters, or ?cluster-reference=) and deliver them with a normal apply; follow GET …/status',
      query: { 'cluster-reference': { description: 'only this cluster reference', schema: resourceName } },
      responses: {
        202: { description: 'Accepted; the apply runs in the background', schema: RotateCaBody },
        404: { description: 'No such logical cloud or cluster reference' },
        409: { description: 'Not applied, no service mesh, or an operation under way' },
      },
    },
    async (req, res) => {
      const query = parseInput(RotateCaQuery, req.query, 'query');
      res.status(202).json(rotateCaBody(await ca.rotate(p(req).project, p(req).logicalCloud, query['cluster-reference'], callerOf(res))));
    },
  );
}
