/**
 * The controllers an apply runs on each cluster (wiring only): namespace, identity, RBAC,
 * quotas and budget shares, isolation, the mesh CA and control plane, with their settings.
 */
import { BudgetQuotaController, type BudgetAssignments } from './controllers/budget-quota.controller.js';
import { CaController, type MeshCa } from './controllers/certificate-authority.controller.js';
import type { Controllers } from './controllers/cluster-pipeline.js';
import { IsolationController } from './controllers/isolation.controller.js';
import { NamespaceController } from './controllers/namespace.controller.js';
import { QuotaController } from './controllers/quota.controller.js';
import { RbacController } from './controllers/rbac.controller.js';
import { ServiceMeshController } from './controllers/service-mesh.controller.js';
import { UserController, type TenantCredentialStore } from './controllers/user.controller.js';
import type { Config } from './config.js';

export interface ClusterControllerParts {
  config: Pick<
    Config,
    | 'DCM_NAMESPACE_DELETE_TIMEOUT_MS'
    | 'DCM_USER_KEY_BITS'
    | 'DCM_CERT_VALIDITY_SECONDS'
    | 'DCM_CSR_SIGN_TIMEOUT_MS'
    | 'DCM_MESH_ISTIO_VERSION'
    | 'DCM_MESH_READY_TIMEOUT_MS'
  >;
  credentials: TenantCredentialStore;
  meshCa: MeshCa;
  budgets: BudgetAssignments;
  /** Test seam: runs between creating a tenant CSR on a cluster and reading it back for approval. */
  beforeCsrApproval?: (csrName: string) => Promise<void>;
}

export function createClusterControllers(parts: ClusterControllerParts): Controllers {
  const { config } = parts;
  return {
    namespace: new NamespaceController(config.DCM_NAMESPACE_DELETE_TIMEOUT_MS),
    user: new UserController(parts.credentials, {
      keyBits: config.DCM_USER_KEY_BITS,
      certificateValiditySeconds: config.DCM_CERT_VALIDITY_SECONDS,
      signTimeoutMs: config.DCM_CSR_SIGN_TIMEOUT_MS,
      ...(parts.beforeCsrApproval ? { beforeApproval: parts.beforeCsrApproval } : {}),
    }),
    rbac: new RbacController(),
    quota: new QuotaController(),
    budget: new BudgetQuotaController(parts.budgets),
    isolation: new IsolationController(),
    ca: new CaController(parts.meshCa, config.DCM_NAMESPACE_DELETE_TIMEOUT_MS),
    mesh: new ServiceMeshController({
      istioVersion: config.DCM_MESH_ISTIO_VERSION,
      readyTimeoutMs: config.DCM_MESH_READY_TIMEOUT_MS,
    }),
  };
}
