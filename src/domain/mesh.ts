/** What the service-mesh CA issues for one cluster of a logical cloud, and for whom. */

/** A registered cluster, by provider and name. */
export interface ClusterKey {
  provider: string;
  cluster: string;
}

/** The cluster of a logical cloud an intermediate CA is for. */
export interface MeshTarget extends ClusterKey {
  logicalCloudId: string;
  project: string;
  logicalCloud: string;
  /** The logical cloud's namespace. */
  namespace: string;
  reference: string;
  /** Istio's name of the cluster in this mesh. */
  clusterName: string;
  /**
   * Whether the intermediate carries the critical URI name constraint (its trust domain only):
   * spec.serviceMesh.nameConstraints, default true. Ambient mode's ztunnel rejects such chains.
   */
  nameConstraints: boolean;
}

/** The four files of Istio's plug-in CA Secret `cacerts`, PEM. */
export interface CacertsFiles {
  'ca-cert.pem': string;
  'ca-key.pem': string;
  'root-cert.pem': string;
  'cert-chain.pem': string;
}

export interface DeliveredIntermediate {
  files: CacertsFiles;
  serialNumber: string;
  notAfter: Date;
  reused: boolean;
}
