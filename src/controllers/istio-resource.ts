/** The Sail Operator's `Istio` resource of a logical cloud's control plane, as the DCM declares it. */
import type { ServiceMeshSettings } from '../domain/logical-cloud.js';
import type { KubeObject } from '../kubernetes/cluster-gateway.js';
import {
  controlPlaneNamespace,
  meshRevision,
  meshTokenAudience,
  meshTrustDomain,
  type LogicalCloudIdentity,
} from './object-names.js';
import type { Condition } from './objects.js';

export const SAIL_GROUP = 'sailoperator.io';
export const ISTIO_API_VERSION = `${SAIL_GROUP}/v1`;
export const ISTIO_KIND = 'Istio';
/** What earlier DCM versions declared; only ever deleted now. */
export const ISTIO_OPERATOR_API_VERSION = 'install.istio.io/v1alpha1';
export const ISTIO_OPERATOR_KIND = 'IstioOperator';
/** A cluster label (in the DCM's cluster registry) that overrides DCM_MESH_ISTIO_VERSION for that cluster. */
export const ISTIO_VERSION_CLUSTER_LABEL = 'dcm.onap.org/istio-version';

export const INSTALL_SAIL = `install the Sail Operator (${ISTIO_API_VERSION} ${ISTIO_KIND})`;

export interface ControlPlaneInput {
  identity: LogicalCloudIdentity;
  /** The logical cloud's namespace. */
  namespace: string;
  /** The cluster's name in the mesh. */
  clusterName: string;
  settings: ServiceMeshSettings | undefined;
  labels: Record<string, string>;
  /** Istio version for Sail (`spec.version`, e.g. v1.28.4). */
  version: string;
}

export interface IstioResource extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    version: string;
    namespace: string;
    updateStrategy: { type: 'InPlace' };
    values: {
      meshConfig: { trustDomain: string; discoverySelectors: { matchLabels: Record<string, string> }[] };
      global: {
        istioNamespace: string;
        meshID: string;
        multiCluster: { clusterName: string };
        network: string;
        sds: { token: { aud: string } };
      };
      pilot: { env: Record<string, string> };
    };
  };
  status?: { conditions?: Condition[]; state?: string };
}

/** The Sail Operator's Istio resource of a logical cloud's control plane on one cluster. */
export function desiredIstio(input: ControlPlaneInput): IstioResource {
  const revision = meshRevision(input.identity);
  const controlPlane = controlPlaneNamespace(input.identity);
  const byName = (namespace: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': namespace } });
  return {
    apiVersion: ISTIO_API_VERSION,
    kind: ISTIO_KIND,
    // Cluster-scoped; with InPlace the revision is the name (istiod-<revision>, istio.io/rev=<revision>).
    metadata: { name: revision, labels: input.labels },
    spec: {
      version: input.version,
      namespace: controlPlane,
      updateStrategy: { type: 'InPlace' },
      values: {
        meshConfig: {
          trustDomain: meshTrustDomain(input.identity),
          // Only the logical cloud's namespace (and istiod's own) exist for this control plane.
          discoverySelectors: [byName(input.namespace), byName(controlPlane)],
        },
        global: {
          // Sail requires it to equal spec.namespace.
          istioNamespace: controlPlane,
          meshID: revision,
          multiCluster: { clusterName: input.clusterName },
          network: input.settings?.network ?? input.clusterName,
          // The audience of the tokens injected workloads present to their istiod: this logical cloud's own.
          sds: { token: { aud: meshTokenAudience(input.identity) } },
        },
        pilot: {
          env: {
            // Scope configuration resources (not only endpoints) by the discovery selectors.
            ENABLE_ENHANCED_RESOURCE_SCOPING: 'true',
            // istiod's CA signs for any namespace whose token it accepts (discovery selectors do not
            // limit it): accepting only this logical cloud's audience keeps the tokens other logical
            // clouds' workloads carry (and the default istio-ca) out. See docs/security-model.md.
            TOKEN_AUDIENCES: meshTokenAudience(input.identity),
          },
        },
      },
    },
  };
}
