/**
 * The cluster gateway: the boundary to one Kubernetes cluster. Controllers, features (and tests,
 * through test/support/fake-cluster.ts) see only the ClusterGateway interface, the plain object
 * types below and the errors of ./cluster-errors.ts; one ClusterGatewayProvider builds a gateway
 * per cluster (./kube-cluster-gateway.ts on a real API server, the only code that imports
 * `@kubernetes/client-node`, with ./object-api.ts and ./csr-signing.ts).
 */
import type { ClusterRecord, ClusterSecrets } from '../domain/cluster.js';
import type { ServedResources } from './discovery.js';

export type { ServedResources } from './discovery.js';

export const FIELD_MANAGER = 'dcm';

// ---- plain object types ----------------------------------------------------------------------

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  finalizers?: string[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** Any Kubernetes object, as the API server sends and takes it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchHandlers {
  event(type: WatchEventType, object: KubeObject): void;
  /** The watch ended (an error, or the server closed it). The gateway does not restart it. */
  closed(error?: Error): void;
}

export interface WatchHandle {
  /** Ends the watch; `closed` is not called for it. */
  stop(): void;
}

export interface ListOptions {
  /** Absent for a namespaced kind: all namespaces. */
  namespace?: string;
  labelSelector?: string;
}

/** A client certificate to be signed by the cluster's CSR API (signer kubernetes.io/kube-apiserver-client). */
export interface ClientCertificateRequest {
  /** The CertificateSigningRequest's name; one of that name left over from earlier is deleted first. */
  name: string;
  /** The PKCS#10 request, PEM. */
  csrPem: string;
  labels?: Record<string, string>;
  /** The lifetime asked for (the CSR API takes no less than 600 s; the cluster may sign shorter). */
  expirationSeconds: number;
  /** Said in the approval condition. */
  approvalMessage: string;
  /** How long to wait for the cluster to sign the approved request. */
  signTimeoutMs: number;
  /** Runs between creating the CSR and reading it back for approval: a seam for tests that replace it meanwhile. */
  beforeApproval?: (name: string) => Promise<void>;
}

/** A user as the cluster's authenticators see it. */
export interface ClusterUser {
  username: string;
  groups: string[];
}

export interface ClusterGateway {
  /** Server-side apply, forced, as field manager 'dcm': the DCM owns the fields it sets. */
  apply<T extends KubeObject>(object: T): Promise<T>;
  /** The object, or undefined when it does not exist. */
  read<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  /** The objects of a kind; [] when the namespace or the kind is not there. */
  list<T extends KubeObject>(apiVersion: string, kind: string, opts: ListOptions): Promise<T[]>;
  /** Deletes the object (in the background); false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** Deletes the object and waits (by watch) until it is gone; false when it was already gone. */
  deleteAndWait(ref: ObjectRef, timeoutMs: number): Promise<boolean>;
  /**
   * Has the cluster sign a client certificate: creates the CSR, reads it back and checks it is
   * the DCM's own (uid, requester, request), approves it, waits for the certificate, deletes
   * the CSR. Returns the certificate, PEM.
   */
  signClientCertificate(request: ClientCertificateRequest): Promise<string>;
  /** Which API groups serve which resources (the discovery API). */
  servedResources(): Promise<ServedResources>;
  /**
   * Watches a kind, label-selected: first ADDED for what exists, then every change.
   * Resolves once the watch runs or has failed; a failure (the kind is not served, the API
   * server went away) calls `closed(error)`.
   */
  watch(apiVersion: string, kind: string, opts: ListOptions, handlers: WatchHandlers): Promise<WatchHandle>;
  /** A bound token of the ServiceAccount (TokenRequest API), valid for that long (the API server may shorten it). */
  requestToken(namespace: string, serviceAccount: string, expirationSeconds: number): Promise<string>;
  /** Who the gateway's own credentials are on the cluster (SelfSubjectReview): the DCM's identity there. */
  whoAmI(): Promise<ClusterUser>;
  /** GET of a raw API path, parsed as JSON. */
  getJson<T>(path: string, accept?: string): Promise<T>;
  /** GET of a raw API path: the body as text (health endpoints such as /readyz). */
  getText(path: string, accept?: string): Promise<string>;
  /** Closes the connections kept open for the calls and stops running watches; the gateway is not used afterwards. */
  close(): void;
}

/** The one way the DCM reaches a cluster (apply, drift, the health probe), and the one seam tests swap. */
export interface ClusterGatewayProvider {
  /** A gateway to the cluster, from its record and its opened secrets; the caller closes it. */
  gatewayFor(cluster: ClusterRecord, secrets: ClusterSecrets): ClusterGateway;
}
