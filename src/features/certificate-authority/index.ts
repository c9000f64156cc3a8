/** The service-mesh CA as the APIs offer it (root, per-cluster intermediates, rotation), with its REST routes. */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { ClusterReferenceStore } from '../cluster-references/cluster-reference.store.js';
import type { LogicalCloudService } from '../logical-clouds/logical-cloud.service.js';
import { declareCertificateAuthorityRoutes } from './certificate-authority.router.js';
import { CertificateAuthorityService, type CaLifecycle } from './certificate-authority.service.js';
import type { IntermediateCaStore } from './intermediate-ca.store.js';
import type { MeshCertificateAuthority } from './mesh-ca.js';

export function createCertificateAuthority(deps: {
  meshCa: MeshCertificateAuthority;
  intermediates: IntermediateCaStore;
  logicalClouds: LogicalCloudService;
  references: ClusterReferenceStore;
  lifecycle: CaLifecycle;
}) {
  const service = new CertificateAuthorityService(
    deps.meshCa,
    deps.intermediates,
    deps.logicalClouds,
    deps.references,
    deps.lifecycle,
  );
  return {
    service,
    routes: (router: Router, registry: OpenApiRegistry) => declareCertificateAuthorityRoutes(router, registry, service),
  };
}
