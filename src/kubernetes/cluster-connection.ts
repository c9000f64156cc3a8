/**
 * The boundary to one Kubernetes cluster: built from a registered cluster's admin
 * kubeconfig, every call has a timeout, and library exceptions become ClusterError with
 * the API server's own message. Controllers depend on this interface only.
 */
import https from 'node:https';
import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  type RequestContext,
} from '@kubernetes/client-node';

export const FIELD_MANAGER = 'dcm';

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

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ClusterConnection {
  readonly kubeConfig: KubeConfig;
  /** Server-side apply, forced: the DCM owns the fields it sets. */
  apply<T extends KubernetesObject>(object: T): Promise<T>;
  read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends KubernetesObject>(apiVersion: string, kind: string, opts: { namespace?: string; labelSelector?: string }): Promise<T[]>;
  /** Deletes the object; false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** GET of a raw API path, parsed as JSON. */
  getJson<T>(path: string, accept?: string): Promise<T>;
  /** A bound token of the ServiceAccount (TokenRequest API), valid for that long (the API server may shorten it). */
  requestToken(namespace: string, serviceAccount: string, expirationSeconds: number): Promise<string>;
  /** Bounds any other call (CSR API, watches) by the connection's timeout. */
  withTimeout<T>(what: string, call: Promise<T>): Promise<T>;
  /** Closes the connections kept open for the calls; the connection is not used afterwards. */
  close(): void;
}

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

/** A connection to a real API server: also plain-text GETs (health endpoints such as /readyz). */
export interface ApiServerConnection extends ClusterConnection {
  /** GET a path of the API server: the body as text; HTTP errors become ClusterError. */
  getText(path: string, accept?: string): Promise<string>;
}

export function createClusterConnection(adminKubeconfig: string, timeoutMs: number): ApiServerConnection {
  const kubeConfig = new KeepAliveKubeConfig();
  try {
    kubeConfig.loadFromString(adminKubeconfig);
  } catch (error) {
    // The parser's message may quote the kubeconfig (keys, tokens): only its kind goes further.
    throw new ClusterError(`the cluster's stored kubeconfig could not be loaded (${(error as Error).name || 'Error'}); register the cluster again`);
  }
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const server = kubeConfig.getCurrentCluster()?.server;

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
  const describe = (ref: ObjectRef) => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
  const header = (ref: ObjectRef) => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  });

  return {
    kubeConfig,
    withTimeout,
    close: () => kubeConfig.close(),
    apply: (object) =>
      withTimeout(
        `apply ${describe({ ...object, name: object.metadata?.name ?? '', namespace: object.metadata?.namespace } as ObjectRef)}`,
        objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
      ),
    read: async <T extends KubernetesObject>(ref: ObjectRef) => {
      try {
        return await withTimeout(`read ${describe(ref)}`, objects.read<T>(header(ref)));
      } catch (error) {
        if (error instanceof ClusterError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
    list: async <T extends KubernetesObject>(apiVersion: string, kind: string, opts: { namespace?: string; labelSelector?: string }) => {
      try {
        const list = await withTimeout(
          `list ${kind}`,
          objects.list<T>(apiVersion, kind, opts.namespace, undefined, undefined, undefined, undefined, opts.labelSelector),
        );
        return list.items;
      } catch (error) {
        // The namespace (or the API) is not there: nothing of ours can be either.
        if (error instanceof ClusterError && error.statusCode === 404) return [];
        throw error;
      }
    },
    delete: async (ref) => {
      try {
        await withTimeout(`delete ${describe(ref)}`, objects.delete(header(ref), undefined, undefined, undefined, undefined, 'Background'));
        return true;
      } catch (error) {
        if (error instanceof ClusterError && error.statusCode === 404) return false;
        throw error;
      }
    },
    getText: (path: string, accept = 'text/plain') => getText(path, accept),
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
    getJson: async <T>(path: string, accept = 'application/json') => {
      const body = await getText(path, accept);
      try {
        return JSON.parse(body) as T;
      } catch {
        throw new ClusterError(`GET ${path}: the answer is not JSON`);
      }
    },
  };
}
