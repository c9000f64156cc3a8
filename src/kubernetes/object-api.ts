/**
 * The object API, with its (cached) kind → resource lookup open to the gateway. Objects go to and
 * come from the cluster as the API's own JSON: the library's typed (de)serialization renames
 * fields that are words of JavaScript (a NetworkPolicy's `from`, a LimitRange's `default` are
 * `_from`, `_default` in its models) and silently drops them from plain objects, which turned a
 * same-namespace ingress rule into allow-all. Server-side apply is therefore sent as written.
 */
import {
  HttpMethod,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  type ResponseContext,
} from '@kubernetes/client-node';
import { NotServed } from './cluster-errors.js';
import type { KubeObject } from './cluster-gateway.js';

export class ObjectApi extends KubernetesObjectApi {
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
  protected override async processResponse<T extends KubernetesObject>(
    response: ResponseContext,
    type?: string,
  ): Promise<T> {
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      return JSON.parse(await response.body.text()) as T;
    }
    return super.processResponse<T>(response, type);
  }

  /** The collection path of a kind: in the namespace when it is namespaced and one is given, else cluster-wide. */
  async collectionPath(
    apiVersion: string,
    kind: string,
    namespace?: string,
  ): Promise<{ path: string; namespaced: boolean }> {
    const resource = await this.resource(apiVersion, kind);
    if (!resource) throw new NotServed(`the cluster does not serve ${apiVersion} ${kind}`);
    const base = this.apiVersionPath(apiVersion);
    const path =
      resource.namespaced && namespace
        ? `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.name}`
        : `${base}/${resource.name}`;
    return { path, namespaced: resource.namespaced };
  }
}
