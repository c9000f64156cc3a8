/**
 * A cluster in memory behind the ClusterGateway interface, for unit tests of the controllers:
 * objects by kind, namespace and name, server-side apply that keeps what an operator wrote into
 * `status`, label-selected lists and watches, deletions that can be held (as finalizers hold a
 * namespace in Terminating), and hooks that make chosen calls fail.
 */
import { randomUUID } from 'node:crypto';
import { ClusterError, NotFound } from '../../src/kubernetes/cluster-errors.js';
import {
  type ClientCertificateRequest,
  type ClusterGateway,
  type ClusterUser,
  type KubeObject,
  type ListOptions,
  type ObjectRef,
  type ServedResources,
  type WatchEventType,
  type WatchHandle,
  type WatchHandlers,
} from '../../src/kubernetes/cluster-gateway.js';

interface Watcher {
  kind: string;
  namespace?: string;
  labelSelector?: string;
  handlers: WatchHandlers;
}

/** Whether labels satisfy a selector of `k=v`, `k==v`, `k!=v`, `k` and `!k` terms, comma-separated. */
export function matchesSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  return selector
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .every((term) => {
      const unequal = term.match(/^([^!=]+)!=(.*)$/);
      if (unequal) return have[unequal[1]!.trim()] !== unequal[2]!.trim();
      const equal = term.match(/^([^!=]+)==?(.*)$/);
      if (equal) return have[equal[1]!.trim()] === equal[2]!.trim();
      if (term.startsWith('!')) return !(term.slice(1) in have);
      return term in have;
    });
}

/** What a small real cluster serves: the core and RBAC resources the controllers use. */
export function basicServedResources(): ServedResources {
  const served: ServedResources = new Map();
  for (const r of ['namespaces', 'secrets', 'serviceaccounts', 'resourcequotas', 'pods', 'services', 'configmaps'])
    served.set(r, new Set(['']));
  for (const r of ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'])
    served.set(r, new Set(['rbac.authorization.k8s.io']));
  for (const r of ['deployments', 'statefulsets']) served.set(r, new Set(['apps']));
  served.set('jobs', new Set(['batch']));
  return served;
}

const clone = <T>(value: T): T => structuredClone(value);

export class FakeCluster implements ClusterGateway {
  /** By `${kind}/${namespace ?? ''}/${name}`. Tests may change it directly (no watch events then). */
  readonly objects = new Map<string, KubeObject>();
  /** Every call, as `verb Kind name`. */
  readonly calls: string[] = [];
  /** Makes chosen calls fail: the error returned is thrown (for watch: given to `closed`). */
  refuse: (verb: string, kind: string, name?: string) => ClusterError | undefined = () => undefined;
  /** What servedResources answers. */
  served: ServedResources = basicServedResources();
  /** Signs client certificates; without one, signClientCertificate fails as a cluster that issues none. */
  signer?: (request: ClientCertificateRequest) => Promise<string>;
  /** Answers of getJson/getText by path. */
  readonly paths = new Map<string, unknown>();
  /** Objects (keys) whose deletion is held: they stay, with a deletionTimestamp, until release(). */
  readonly held = new Set<string>();
  /** The signing requests the cluster was asked for. */
  readonly signed: ClientCertificateRequest[] = [];
  closed = false;
  private readonly watchers = new Set<Watcher>();
  private version = 0;
  private readonly deletionWaiters = new Map<string, (() => void)[]>();

  key(kind: string, name: string, namespace?: string): string {
    return `${kind}/${namespace ?? ''}/${name}`;
  }

  /** The stored object (not a copy), if any. */
  get<T extends KubeObject = KubeObject>(kind: string, name: string, namespace?: string): T | undefined {
    return this.objects.get(this.key(kind, name, namespace)) as T | undefined;
  }

  private check(verb: string, kind: string, name?: string): void {
    if (this.closed) throw new Error('FakeCluster: used after close()');
    const refused = this.refuse(verb, kind, name);
    if (refused) throw refused;
  }

  private emit(type: WatchEventType, object: KubeObject): void {
    for (const w of [...this.watchers]) {
      if (w.kind !== object.kind) continue;
      if (w.namespace && object.metadata?.namespace !== w.namespace) continue;
      if (!matchesSelector(object.metadata?.labels, w.labelSelector)) continue;
      w.handlers.event(type, clone(object));
    }
  }

  async apply<T extends KubeObject>(object: T): Promise<T> {
    const { kind = '', metadata = {} } = object;
    this.calls.push(`apply ${kind} ${metadata.name}`);
    this.check('apply', kind, metadata.name);
    const key = this.key(kind, metadata.name ?? '', metadata.namespace);
    const existing = this.objects.get(key);
    // As server-side apply: what others wrote into status stays, and is answered.
    const next: KubeObject = {
      ...clone(object),
      metadata: {
        ...clone(metadata),
        uid: existing?.metadata?.uid ?? randomUUID(),
        resourceVersion: String(++this.version),
        creationTimestamp: existing?.metadata?.creationTimestamp ?? new Date().toISOString(),
      },
      ...(existing?.status !== undefined ? { status: existing.status } : {}),
    };
    this.objects.set(key, next);
    this.emit(existing ? 'MODIFIED' : 'ADDED', next);
    return clone(next) as T;
  }

  /** Writes an object's status, as an operator would (a MODIFIED event follows). */
  setStatus(kind: string, name: string, namespace: string | undefined, status: unknown): void {
    const object = this.get(kind, name, namespace);
    if (!object) throw new Error(`FakeCluster: no ${kind} ${name}`);
    object.status = status;
    object.metadata = { ...object.metadata, resourceVersion: String(++this.version) };
    this.emit('MODIFIED', object);
  }

  async read<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    this.calls.push(`read ${ref.kind} ${ref.name}`);
    this.check('read', ref.kind, ref.name);
    const object = this.objects.get(this.key(ref.kind, ref.name, ref.namespace));
    return object ? (clone(object) as T) : undefined;
  }

  async list<T extends KubeObject>(_apiVersion: string, kind: string, opts: ListOptions): Promise<T[]> {
    this.calls.push(`list ${kind}`);
    this.check('list', kind);
    return [...this.objects.values()]
      .filter(
        (o) =>
          o.kind === kind &&
          (!opts.namespace || o.metadata?.namespace === opts.namespace) &&
          matchesSelector(o.metadata?.labels, opts.labelSelector),
      )
      .map((o) => clone(o) as T);
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    this.calls.push(`delete ${ref.kind} ${ref.name}`);
    this.check('delete', ref.kind, ref.name);
    const key = this.key(ref.kind, ref.name, ref.namespace);
    const object = this.objects.get(key);
    if (!object) return false;
    if (this.held.has(key)) {
      if (!object.metadata?.deletionTimestamp) {
        object.metadata = {
          ...object.metadata,
          deletionTimestamp: new Date().toISOString(),
          resourceVersion: String(++this.version),
        };
        this.emit('MODIFIED', object);
      }
      return true;
    }
    this.remove(key);
    return true;
  }

  private remove(key: string): void {
    const object = this.objects.get(key);
    if (!object) return;
    this.objects.delete(key);
    this.emit('DELETED', object);
    for (const resolve of this.deletionWaiters.get(key) ?? []) resolve();
    this.deletionWaiters.delete(key);
  }

  /** Lets a held deletion finish (as the namespace controller does once it has emptied the namespace). */
  release(kind: string, name: string, namespace?: string): void {
    const key = this.key(kind, name, namespace);
    this.held.delete(key);
    if (this.objects.get(key)?.metadata?.deletionTimestamp) this.remove(key);
  }

  async deleteAndWait(ref: ObjectRef, timeoutMs: number): Promise<boolean> {
    if (!(await this.delete(ref))) return false;
    const key = this.key(ref.kind, ref.name, ref.namespace);
    if (!this.objects.has(key)) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.deletionWaiters.set(key, [...(this.deletionWaiters.get(key) ?? []), resolve]);
        timer = setTimeout(
          () =>
            reject(
              new ClusterError(
                `delete ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}: deleted, but still there after ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
    }
    return true;
  }

  async signClientCertificate(request: ClientCertificateRequest): Promise<string> {
    this.calls.push(`sign CertificateSigningRequest ${request.name}`);
    this.check('sign', 'CertificateSigningRequest', request.name);
    this.signed.push(request);
    await request.beforeApproval?.(request.name);
    if (!this.signer)
      throw new ClusterError(
        `CertificateSigningRequest ${request.name}: not signed within ${request.signTimeoutMs} ms`,
      );
    return this.signer(request);
  }

  async servedResources(): Promise<ServedResources> {
    this.calls.push('discovery');
    this.check('discovery', '*');
    return this.served;
  }

  async watch(_apiVersion: string, kind: string, opts: ListOptions, handlers: WatchHandlers): Promise<WatchHandle> {
    this.calls.push(`watch ${kind}`);
    const watcher: Watcher = { kind, ...opts, handlers };
    const handle: WatchHandle = { stop: () => void this.watchers.delete(watcher) };
    try {
      this.check('watch', kind);
    } catch (error) {
      handlers.closed(error as Error);
      return handle;
    }
    this.watchers.add(watcher);
    for (const o of [...this.objects.values()]) {
      if (
        o.kind === kind &&
        (!opts.namespace || o.metadata?.namespace === opts.namespace) &&
        matchesSelector(o.metadata?.labels, opts.labelSelector)
      ) {
        handlers.event('ADDED', clone(o));
      }
    }
    return handle;
  }

  /** Ends every running watch, as an API server that goes away (with an error) or closes them (without). */
  endWatches(error?: Error): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.handlers.closed(error);
    }
  }

  get watchCount(): number {
    return this.watchers.size;
  }

  async requestToken(namespace: string, serviceAccount: string, expirationSeconds: number): Promise<string> {
    this.calls.push(`token ServiceAccount ${serviceAccount}`);
    this.check('token', 'ServiceAccount', serviceAccount);
    if (!this.objects.has(this.key('ServiceAccount', serviceAccount, namespace)))
      throw new NotFound(`serviceaccounts "${serviceAccount}" not found`);
    return `token:${namespace}:${serviceAccount}:${expirationSeconds}:${++this.version}`;
  }

  /** What whoAmI answers. */
  user: ClusterUser = { username: 'dcm-admin', groups: ['system:masters', 'system:authenticated'] };

  async whoAmI(): Promise<ClusterUser> {
    this.calls.push('whoami');
    this.check('create', 'SelfSubjectReview');
    return { ...this.user, groups: [...this.user.groups] };
  }

  async getJson<T>(path: string): Promise<T> {
    this.calls.push(`GET ${path}`);
    this.check('get', path);
    if (!this.paths.has(path)) throw new NotFound(`GET ${path}: HTTP 404`);
    return clone(this.paths.get(path)) as T;
  }

  async getText(path: string): Promise<string> {
    const value = await this.getJson<unknown>(path);
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  close(): void {
    this.watchers.clear();
    this.closed = true;
  }
}
