/**
 * The cluster gateway on a real API server, and the provider that builds one per cluster. Built
 * from a registered cluster's admin kubeconfig; every call has a timeout, and library exceptions
 * become the errors of ./cluster-errors.ts with the API server's own message.
 */
import https from 'node:https';
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { ClusterRecord, ClusterSecrets } from '../domain/cluster.js';
import { ClusterError, clusterErrorFor, NotFound, toClusterError } from './cluster-errors.js';
import {
  FIELD_MANAGER,
  type ClusterGateway,
  type ClusterGatewayProvider,
  type KubeObject,
  type ListOptions,
  type ObjectRef,
  type WatchHandle,
} from './cluster-gateway.js';
import { signClientCertificate } from './csr-signing.js';
import { discoverServedResources } from './discovery.js';
import { KeepAliveKubeConfig } from './keep-alive-kube-config.js';
import { watchKind } from './kube-watch.js';
import { ObjectApi } from './object-api.js';
import { WaitTimeoutError, waitForObject } from './wait-for-object.js';

/** Builds each cluster's gateway from its opened admin kubeconfig, with the configured call timeout. */
export class KubeClusterGatewayProvider implements ClusterGatewayProvider {
  constructor(private readonly timeoutMs: number) {}

  gatewayFor(_cluster: ClusterRecord, secrets: ClusterSecrets): ClusterGateway {
    return createClusterGateway(secrets.kubeconfig, this.timeoutMs);
  }
}

const describe = (ref: ObjectRef) => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

const header = (ref: ObjectRef) => ({
  apiVersion: ref.apiVersion,
  kind: ref.kind,
  metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
});

/** The call's answer, or `absent` when the cluster has no such object (or collection). */
const notFoundAs = async <T>(call: Promise<T>, absent: T): Promise<T> => {
  try {
    return await call;
  } catch (error) {
    if (error instanceof NotFound) return absent;
    throw error;
  }
};

export function createClusterGateway(adminKubeconfig: string, timeoutMs: number): ClusterGateway {
  const kubeConfig = new KeepAliveKubeConfig();
  try {
    kubeConfig.loadFromString(adminKubeconfig);
  } catch (error) {
    // The parser's message may quote the kubeconfig (keys, tokens): only its kind goes further.
    const kind = (error as Error).name || 'Error';
    throw new ClusterError(`the cluster's stored kubeconfig could not be loaded (${kind}); register the cluster again`);
  }
  const objects = kubeConfig.makeApiClient(ObjectApi);
  const server = kubeConfig.getCurrentCluster()?.server;
  const watches = new Set<WatchHandle>();

  const withTimeout = async <T>(what: string, call: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const message = `${what}: no answer from ${server} within ${timeoutMs} ms`;
      timer = setTimeout(() => reject(new ClusterError(message)), timeoutMs);
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
              const status = res.statusCode ?? 0;
              if (status >= 400) reject(clusterErrorFor(`GET ${path}: HTTP ${res.statusCode}`, status));
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
  const read = <T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> => {
    const object = objects.read(header(ref)) as Promise<unknown> as Promise<T>;
    return notFoundAs(withTimeout(`read ${describe(ref)}`, object), undefined);
  };
  const remove = (ref: ObjectRef): Promise<boolean> => {
    const deleted = objects.delete(header(ref), undefined, undefined, undefined, undefined, 'Background');
    return notFoundAs(
      withTimeout(`delete ${describe(ref)}`, deleted).then(() => true),
      false,
    );
  };
  const collectionPath = (apiVersion: string, kind: string, namespace?: string) =>
    objects.collectionPath(apiVersion, kind, namespace);

  const deleteAndWait = async (ref: ObjectRef, waitMs: number): Promise<boolean> => {
    const what = `delete ${describe(ref)}`;
    // A kind the cluster does not serve has no object to delete.
    const path = collectionPath(ref.apiVersion, ref.kind, ref.namespace);
    const collection = await notFoundAs(withTimeout(what, path), undefined);
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
      if (error instanceof WaitTimeoutError) {
        throw new ClusterError(`${what}: deleted, but still there after ${waitMs} ms`);
      }
      throw toClusterError(error, what);
    }
    return true;
  };

  return {
    apply: <T extends KubeObject>(object: T) => {
      const { apiVersion = '', kind = '', metadata } = object;
      const ref = { apiVersion, kind, name: metadata?.name ?? '', namespace: metadata?.namespace };
      return withTimeout(`apply ${describe(ref)}`, objects.applyAsWritten(object, FIELD_MANAGER));
    },
    read,
    list: async <T extends KubeObject>(apiVersion: string, kind: string, opts: ListOptions) => {
      const { namespace, labelSelector } = opts;
      const list = await notFoundAs(
        withTimeout(
          `list ${kind}`,
          objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector),
        ),
        // The namespace (or the API) is not there: nothing of ours can be either.
        { items: [] },
      );
      return list.items as unknown[] as T[];
    },
    delete: remove,
    deleteAndWait,
    signClientCertificate: (request) => signClientCertificate({ kubeConfig, withTimeout, remove }, request),
    servedResources: () => discoverServedResources({ getJson }),
    watch: (apiVersion, kind, opts, handlers) =>
      watchKind({ kubeConfig, withTimeout, collectionPath, watches }, apiVersion, kind, opts, handlers),
    requestToken: async (namespace, serviceAccount, expirationSeconds) => {
      const core = kubeConfig.makeApiClient(CoreV1Api);
      const body = { spec: { audiences: [], expirationSeconds } };
      const answer = await withTimeout(
        `request a token of ServiceAccount ${namespace}/${serviceAccount}`,
        core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace, body }),
      );
      const token = answer.status?.token;
      if (!token) {
        throw new ClusterError(`the API server issued no token for ServiceAccount ${namespace}/${serviceAccount}`);
      }
      return token;
    },
    whoAmI: async () => {
      const authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
      const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
      const review = await withTimeout('SelfSubjectReview', authentication.createSelfSubjectReview({ body }));
      const username = review.status?.userInfo?.username;
      if (!username) {
        throw new ClusterError('the cluster did not say who the DCM is (SelfSubjectReview without a user name)');
      }
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
