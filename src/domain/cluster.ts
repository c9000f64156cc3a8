/** A registered cluster as the controllers know it: where it is, the CA it trusts, its labels. */
import type { Described, KeyValue, StoredRecord } from './records.js';

/** A cluster's secrets, opened for one piece of work. */
export interface ClusterSecrets {
  kubeconfig: string;
  caKey?: string;
}

/** What is stored of a registered cluster besides its sealed secrets. */
export interface ClusterData extends Described {
  labels: KeyValue[];
  /** From the admin kubeconfig: where tenants reach the cluster and the CA they trust. */
  server: string;
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
}

export type ClusterRecord = StoredRecord<ClusterData>;
