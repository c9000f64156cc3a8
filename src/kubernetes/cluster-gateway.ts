/**
 * The cluster gateway: the boundary to one Kubernetes cluster, and the only code that imports
 * `@kubernetes/client-node`. Built from a registered cluster's admin kubeconfig; every call
 * has a timeout, and library exceptions become ClusterError with the API server's own message.
 * Controllers (and tests, through test/support/fake-cluster.ts) see only the ClusterGateway
 * interface and the plain object types below.
 */
import https from 'node:https';
import {
  AuthenticationV1Api,
  CertificatesV1Api,
  CoreV1Api,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  type KubernetesObject,
  type RequestContext,
  type ResponseContext,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';
import { discoverServedResources, type ServedResources } from './discovery.js';
import { WaitTimeoutError, waitForObject } from './wait-for-object.js';

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

// ---- errors ----------------------------------------------------------------------------------

export class ClusterError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    /** No connection to the cluster was made: the request never reached it. */
    readonly notConnected = false,
  ) {
    super(message);
    this.name = 'ClusterError';
  }
}

/** Socket errors of a connection that was never established. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether a failed call certainly changed nothing on the cluster: it refused the request
 * (4xx), or the request never reached it. A timeout, a reset or a 5xx may have done it.
 */
export const certainlyNotDone = (error: unknown): boolean =>
  error instanceof ClusterError &&
  (error.notConnected || (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500));

function errorMessage(error: unknown): { message: string; code?: number; notConnected?: boolean } {
  const e = error as { code?: number | string; body?: unknown; message?: string };
  if (typeof e?.code === 'number' && e.body !== undefined) {
    let body = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        /* plain text */
      }
    }
    const status = body as { message?: string };
    return { message: typeof status?.message === 'string' ? status.message : String(e.body).slice(0, 500), code: e.code };
  }
  return { message: e?.message ?? String(error), notConnected: typeof e?.code === 'string' && NOT_CONNECTED.has(e.code) };
}

export function toClusterError(error: unknown, what: string): ClusterError {
  if (error instanceof ClusterError) return error;
  const { message, code, notConnected } = errorMessage(error);
  return new ClusterError(`${what}: ${message}`, code, notConnected);
}

// ---- CSR checks --------------------------------------------------------------------------------

/** What the API server recorded when the DCM created its CSR. */
export interface SubmittedCsr {
  uid: string | undefined;
  username: string | undefined;
  /** Base64 of the PEM request, as sent. */
  request: string;
}

/** The parts of a CertificateSigningRequest the checks read. */
export interface CsrIdentity {
  metadata?: { uid?: string };
  spec: { username?: string; request: string };
}

/**
 * Why a CSR read back by name is not the DCM's own (another object, another requester, another
 * request), or undefined when it is: only then is it approved, and only its certificate used.
 */
export function csrMismatch(csr: CsrIdentity, submitted: SubmittedCsr): string | undefined {
  if (!submitted.uid || csr.metadata?.uid !== submitted.uid) return 'another object under the same name';
  if (!submitted.username || csr.spec.username !== submitted.username) return `requested by ${csr.spec.username ?? 'nobody'}, not by the DCM`;
  if (csr.spec.request !== submitted.request) return 'another certificate request';
  return undefined;
}

// ---- the implementation on a real API server -----------------------------------------------------

/**
 * A kubeconfig whose API calls share one keep-alive HTTPS agent. The library makes a new
 * agent, hence a new TCP and TLS connection, for every call; the work on one cluster makes
 * about twenty calls, and a TLS handshake costs the DCM several milliseconds of CPU each.
 * Watches keep an agent of their own (their connection stays busy while they run).
 */
class KeepAliveKubeConfig extends KubeConfig {
  private agent: https.Agent | undefined;

  /** The shared agent, made once with the options (CA, client certificate) of the library's first one. */
  shared(made: unknown): unknown {
    if (!(made instanceof https.Agent)) return made; // a proxy or plain HTTP: as the library made it
    this.agent ??= new https.Agent({ ...made.options, keepAlive: true, maxSockets: 8 });
    made.destroy();
    return this.agent;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setAgent(this.shared(context.getAgent()) as https.Agent);
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

/**
 * The object API, with its (cached) kind → resource lookup open to the gateway. Objects go to and
 * come from the cluster as the API's own JSON: the library's typed (de)serialization renames
 * fields that are words of JavaScript (a NetworkPolicy's `from`, a LimitRange's `default` are
 * `_from`, `_default` in its models) and silently drops them from plain objects, which turned a
 * same-namespace ingress rule into allow-all. Server-side apply is therefore sent as written.
 */
class ObjectApi extends KubernetesObjectApi {
  async applyAsWritten<T extends KubeObject>(object: T, fieldManager: string): Promise<T> {
    const path = await this.specUriPath(object as KubernetesObject, 'patch');
    const request = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    request.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    request.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    request.setQueryParam('fieldManager', fieldManager);
    request.setQueryParam('force', 'true');
    request.setBody(JSON.stringify(object));
    return this.requestPromise(request) as Promise<unknown> as Promise<T>;
  }

  /** Answers as the API server's JSON (see above), not the library's models. */
  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext, type?: string): Promise<T> {
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return JSON.parse(await response.body.text()) as T;
    return super.processResponse<T>(response, type);
  }

  /** The collection path of a kind: in the namespace when it is namespaced and one is given, else across the cluster. */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<{ path: string; namespaced: boolean }> {
    const resource = await this.resource(apiVersion, kind);
    if (!resource) throw new ClusterError(`the cluster does not serve ${apiVersion} ${kind}`, 404);
    const base = this.apiVersionPath(apiVersion);
    const path = resource.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.name}` : `${base}/${resource.name}`;
    return { path, namespaced: resource.namespaced };
  }
}

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

const refusal = (csr: V1CertificateSigningRequest) =>
  csr.status?.conditions?.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');

const describe = (ref: ObjectRef) => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

const WATCH_EVENTS = new Set<string>(['ADDED', 'MODIFIED', 'DELETED']);

export function createClusterGateway(adminKubeconfig: string, timeoutMs: number): ClusterGateway {
  const kubeConfig = new KeepAliveKubeConfig();
  try {
    kubeConfig.loadFromString(adminKubeconfig);
  } catch (error) {
    // The parser's message may quote the kubeconfig (keys, tokens): only its kind goes further.
    throw new ClusterError(`the cluster's stored kubeconfig could not be loaded (${(error as Error).name || 'Error'}); register the cluster again`);
  }
  const objects = kubeConfig.makeApiClient(ObjectApi);
  const server = kubeConfig.getCurrentCluster()?.server;
  const watches = new Set<WatchHandle>();

  const withTimeout = async <T>(what: string, call: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClusterError(`${what}: no answer from ${server} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([call, timeout]);
    } catch (error) {
      throw toClusterError(error, what);
    } finally {
      clearTimeout(timer);
    }
  };
  /** A GET of a path on the cluster, with the admin credentials and the shared connection: the body as text. */
  const getText = (path: string, accept: string) =>
    withTimeout(
      `GET ${path}`,
      (async () => {
        const url = new URL(path, server);
        const options: https.RequestOptions = { method: 'GET', headers: { Accept: accept } };
        await kubeConfig.applyToHTTPSOptions(options);
        options.agent = kubeConfig.shared(options.agent) as https.Agent;
        return new Promise<string>((resolve, reject) => {
          const req = https.request(url, options, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => {
              if ((res.statusCode ?? 0) >= 400) reject(new ClusterError(`GET ${path}: HTTP ${res.statusCode}`, res.statusCode));
              else resolve(body);
            });
          });
          req.on('error', reject);
          req.end();
        });
      })(),
    );
  const getJson = async <T>(path: string, accept = 'application/json'): Promise<T> => {
    const body = await getText(path, accept);
    try {
      return JSON.parse(body) as T;
    } catch {
      throw new ClusterError(`GET ${path}: the answer is not JSON`);
    }
  };
  const header = (ref: ObjectRef) => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  });
  const notFoundAs = async <T>(call: Promise<T>, absent: T): Promise<T> => {
    try {
      return await call;
    } catch (error) {
      if (error instanceof ClusterError && error.statusCode === 404) return absent;
      throw error;
    }
  };
  const read = <T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> =>
    notFoundAs(withTimeout(`read ${describe(ref)}`, objects.read(header(ref)) as Promise<unknown> as Promise<T>), undefined);
  const remove = (ref: ObjectRef): Promise<boolean> =>
    notFoundAs(
      withTimeout(`delete ${describe(ref)}`, objects.delete(header(ref), undefined, undefined, undefined, undefined, 'Background')).then(() => true),
      false,
    );

  const deleteAndWait = async (ref: ObjectRef, waitMs: number): Promise<boolean> => {
    const what = `delete ${describe(ref)}`;
    // A kind the cluster does not serve has no object to delete.
    const collection = await notFoundAs(withTimeout(what, objects.collectionPath(ref.apiVersion, ref.kind, ref.namespace)), undefined);
    if (!collection || !(await remove(ref))) return false;
    try {
      // The object's finalizers (a namespace's controller) finish the deletion; done when it is gone.
      await waitForObject({
        kubeConfig,
        collectionPath: collection.path,
        name: ref.name,
        condition: () => false,
        timeoutMs: waitMs,
        untilDeleted: { exists: () => read(ref).then((o) => o !== undefined) },
      });
    } catch (error) {
      if (error instanceof WaitTimeoutError) throw new ClusterError(`${what}: deleted, but still there after ${waitMs} ms`);
      throw toClusterError(error, what);
    }
    return true;
  };

  const signClientCertificate = async (request: ClientCertificateRequest): Promise<string> => {
    const { name } = request;
    const api = kubeConfig.makeApiClient(CertificatesV1Api);
    const csrRef = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name };
    await remove(csrRef);
    const body = Buffer.from(request.csrPem).toString('base64');
    const created = await withTimeout(
      `create CertificateSigningRequest ${name}`,
      api.createCertificateSigningRequest({
        body: {
          metadata: { name, ...(request.labels ? { labels: request.labels } : {}) },
          spec: {
            request: body,
            signerName: 'kubernetes.io/kube-apiserver-client',
            usages: ['digital signature', 'key encipherment', 'client auth'],
            // The CSR API takes no less than 600 s.
            expirationSeconds: Math.max(600, request.expirationSeconds),
          },
        },
      }),
    );
    // What the API server recorded of the DCM's own request: its uid and the DCM's identity as it authenticated it.
    const submitted: SubmittedCsr = { uid: created.metadata?.uid, username: created.spec.username, request: body };
    await request.beforeApproval?.(name);
    const csr = await withTimeout(`read CertificateSigningRequest ${name}`, api.readCertificateSigningRequest({ name }));
    const replaced = csrMismatch(csr, submitted);
    if (replaced) {
      csr.status = { ...csr.status, conditions: [{ type: 'Denied', status: 'True', reason: 'DCMDenied', message: `not the request the DCM submitted: ${replaced}` }] };
      await withTimeout(`deny CertificateSigningRequest ${name}`, api.replaceCertificateSigningRequestApproval({ name, body: csr })).catch(() => undefined);
      throw new ClusterError(`CertificateSigningRequest ${name} is not the one the DCM submitted (${replaced}): denied, not approved`);
    }
    csr.status = { ...csr.status, conditions: [{ type: 'Approved', status: 'True', reason: 'DCMApproved', message: request.approvalMessage }] };
    await withTimeout(`approve CertificateSigningRequest ${name}`, api.replaceCertificateSigningRequestApproval({ name, body: csr }));
    let signed: V1CertificateSigningRequest | undefined;
    try {
      signed = await waitForObject<V1CertificateSigningRequest>({
        kubeConfig,
        collectionPath: CSR_PATH,
        name,
        timeoutMs: request.signTimeoutMs,
        condition: (o) => Boolean(o.status?.certificate) || refusal(o) !== undefined,
      });
    } catch (error) {
      if (error instanceof WaitTimeoutError) throw new ClusterError(`CertificateSigningRequest ${name}: not signed within ${request.signTimeoutMs} ms`);
      throw toClusterError(error, `wait for CertificateSigningRequest ${name}`);
    }
    const refused = refusal(signed!);
    if (refused) throw new ClusterError(`CertificateSigningRequest ${name} ${refused.type}: ${refused.message ?? refused.reason ?? ''}`);
    const swapped = csrMismatch(signed!, submitted);
    if (swapped) throw new ClusterError(`CertificateSigningRequest ${name} was replaced while it was signed (${swapped}): its certificate is not used`);
    await remove(csrRef);
    return Buffer.from(signed!.status!.certificate!, 'base64').toString('utf8');
  };

  const watch = async (apiVersion: string, kind: string, opts: ListOptions, handlers: WatchHandlers): Promise<WatchHandle> => {
    const what = `watch ${apiVersion} ${kind}${opts.namespace ? ` in ${opts.namespace}` : ''}`;
    let controller: AbortController | undefined;
    let ended = false;
    const end = () => {
      ended = true;
      watches.delete(handle);
      controller?.abort();
    };
    const handle: WatchHandle = { stop: end };
    const close = (error?: Error) => {
      if (ended) return;
      end();
      handlers.closed(error);
    };
    watches.add(handle);
    const onEvent = (type: string, object: unknown) => {
      if (ended) return;
      if (WATCH_EVENTS.has(type)) handlers.event(type as WatchEventType, object as KubeObject);
      else if (type === 'ERROR') {
        const status = object as { message?: string; code?: number } | undefined;
        close(new ClusterError(`${what}: ${status?.message ?? 'the server ended the watch with an error'}`, status?.code));
      }
    };
    const onDone = (error: unknown) => {
      if (ended) return;
      if (!error) close();
      else {
        const e = error as { statusCode?: unknown; message?: string };
        close(typeof e.statusCode === 'number' ? new ClusterError(`${what}: ${e.message ?? ''}`, e.statusCode) : toClusterError(error, what));
      }
    };
    try {
      const { path } = await withTimeout(what, objects.collectionPath(apiVersion, kind, opts.namespace));
      if (ended) return handle;
      // resourceVersion "0": the server first sends what exists (as ADDED) from its watch cache at once.
      // Without one it must first prove its cache current, and where it cannot within seconds (a kind
      // nothing wrote to lately) it ends the watch with a 504 "Too large resource version" instead.
      const started = new Watch(kubeConfig).watch(path, { labelSelector: opts.labelSelector, resourceVersion: '0' }, onEvent, onDone);
      // A watch that never gets its answer is given up; its connection is closed whenever it comes.
      started.then((c) => {
        controller = c;
        if (ended) c.abort();
      }, () => undefined);
      await withTimeout(what, started);
    } catch (error) {
      close(toClusterError(error, what));
    }
    return handle;
  };

  return {
    apply: <T extends KubeObject>(object: T) =>
      withTimeout(
        `apply ${describe({ apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', name: object.metadata?.name ?? '', namespace: object.metadata?.namespace })}`,
        objects.applyAsWritten(object, FIELD_MANAGER),
      ),
    read,
    list: async <T extends KubeObject>(apiVersion: string, kind: string, opts: ListOptions) => {
      const list = await notFoundAs(
        withTimeout(`list ${kind}`, objects.list(apiVersion, kind, opts.namespace, undefined, undefined, undefined, undefined, opts.labelSelector)),
        // The namespace (or the API) is not there: nothing of ours can be either.
        { items: [] },
      );
      return list.items as unknown[] as T[];
    },
    delete: remove,
    deleteAndWait,
    signClientCertificate,
    servedResources: () => discoverServedResources({ getJson }),
    watch,
    requestToken: async (namespace, serviceAccount, expirationSeconds) => {
      const core = kubeConfig.makeApiClient(CoreV1Api);
      const answer = await withTimeout(
        `request a token of ServiceAccount ${namespace}/${serviceAccount}`,
        core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace, body: { spec: { audiences: [], expirationSeconds } } }),
      );
      const token = answer.status?.token;
      if (!token) throw new ClusterError(`the API server issued no token for ServiceAccount ${namespace}/${serviceAccount}`);
      return token;
    },
    whoAmI: async () => {
      const authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
      const review = await withTimeout('SelfSubjectReview', authentication.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } }));
      const username = review.status?.userInfo?.username;
      if (!username) throw new ClusterError('the cluster did not say who the DCM is (SelfSubjectReview without a user name)');
      return { username, groups: review.status?.userInfo?.groups ?? [] };
    },
    getJson,
    getText: (path: string, accept = 'text/plain') => getText(path, accept),
    close: () => {
      for (const w of [...watches]) w.stop();
      kubeConfig.close();
    },
  };
}
