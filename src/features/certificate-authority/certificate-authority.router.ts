/**
 * REST of the service-mesh CA: the root certificate, a logical cloud's per-cluster CA chains
 * (certificates only: no key is ever answered), and rotation before expiry.
 */
import type { Request, Router } from 'express';
import { callerOf } from '../../http/caller.js';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import { resourceName } from '../../validation/record-metadata.js';
import {
  LogicalCloudCaBody,
  logicalCloudCaView,
  RootCaBody,
  rootCaView,
  RotateCaBody,
  rotateCaBody,
  RotateCaQuery,
} from './certificate-authority.schema.js';
import type { CertificateAuthorityService } from './certificate-authority.service.js';

const LC = '/projects/:project/logical-clouds/:logicalCloud';

export function declareCertificateAuthorityRoutes(
  router: Router,
  registry: OpenApiRegistry,
  ca: CertificateAuthorityService,
): void {
  const p = (req: Request) => req.params as { project: string; logicalCloud: string };

  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: '/ca/root',
      tag: 'Certificate authority',
      summary:
        "The DCM's service-mesh root certificate (PEM), and the operator's CA and chain when one signs the intermediates",
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
      summary:
        "Each cluster's intermediate CA of the logical cloud: certificate, chain to the root, serial, validity (never a key)",
      responses: {
        200: { description: 'CA chains', schema: LogicalCloudCaBody },
        404: { description: 'No such project or logical cloud' },
      },
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
      summary:
        'Issue new intermediate CAs (all clusters, or ?cluster-reference=) and deliver them with a normal apply; follow GET …/status',
      query: { 'cluster-reference': { description: 'only this cluster reference', schema: resourceName } },
      responses: {
        202: { description: 'Accepted; the apply runs in the background', schema: RotateCaBody },
        404: { description: 'No such logical cloud or cluster reference' },
        409: { description: 'Not applied, no service mesh, or an operation under way' },
      },
    },
    async (req, res) => {
      const query = parseInput(RotateCaQuery, req.query, 'query');
      res
        .status(202)
        .json(
          rotateCaBody(await ca.rotate(p(req).project, p(req).logicalCloud, query['cluster-reference'], callerOf(res))),
        );
    },
  );
}
