/**
 * The tenant's kubeconfig of a logical cloud: one entry per cluster reference where the tenant
 * has a credential now. A certificate user's entry carries the current generation's certificate
 * for that cluster and the generation's key; a token user's a new bound token of the
 * generation's ServiceAccount, requested from the cluster at every download.
 *
 * Because every token user's download mints a token on every cluster, such downloads are
 * rate-limited per (caller, logical cloud): DownloadRateLimiter, applied to the downloads the
 * transports run through `downloadAs` (REST and gRPC both do; they share one limiter).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { NotFoundError, StateConflictError, UnavailableError } from '../../errors.js';
import { buildKubeconfig, type Kubeconfig, type KubeconfigEntry } from '../../kubeconfig/kubeconfig.js';
import type { ClusterGatewayProvider } from '../../kubernetes/cluster-gateway.js';
import { tenantServiceAccount } from '../../domain/tenant-identity.js';
import type { ClusterRecord, ClusterService } from '../cluster-registry/cluster.service.js';
import type { ClusterReferenceRecord, LogicalCloudRecord } from '../../domain/logical-cloud.js';
import type { LogicalCloudStores } from '../logical-clouds/logical-cloud.service.js';
import type { CredentialsStore } from './credentials.store.js';
import { STATUS_TEXT, type LifecycleStatusStore, type LifecycleState } from './lifecycle-status.store.js';

export interface TenantKubeconfigOptions {
  gateways: ClusterGatewayProvider;
  /** Lifetime asked for the bound tokens of token users' kubeconfigs. */
  tokenSeconds: number;
}

/** States in which a certificate user's certificates are handed out (an apply under way included: the certificate is already issued). */
const CERTIFICATE_STATES: LifecycleState[] = ['Instantiating', 'Instantiated', 'InstantiateFailed'];
/** States in which a token user's tokens are requested (its ServiceAccount certainly exists on an Applied cluster). */
const TOKEN_STATES: LifecycleState[] = ['Instantiated', 'InstantiateFailed'];

export class TenantKubeconfigs {
  constructor(
    private readonly references: Pick<LogicalCloudStores['clusterReferences'], 'list'>,
    private readonly clusters: Pick<ClusterService, 'get' | 'secretsOf'>,
    private readonly status: Pick<LifecycleStatusStore, 'get'>,
    private readonly credentials: Pick<CredentialsStore, 'get'>,
    private readonly options: TenantKubeconfigOptions,
  ) {}

  /** The kubeconfig for one cluster reference, or for every cluster with a credential; refuses when there is none yet. */
  async build(lc: LogicalCloudRecord, reference?: string): Promise<Kubeconfig> {
    const references = (await this.references.list({ logicalCloudId: lc.id })).items;
    const wanted = reference ? references.filter((r) => r.name === reference) : references;
    if (reference && wanted.length === 0)
      throw new NotFoundError(`Cluster reference ${reference} not found in Logical Cloud ${lc.name}`);
    const [doc, credentials] = await Promise.all([this.status.get(lc.id), this.credentials.get(lc.id)]);
    const entries: KubeconfigEntry[] = [];
    if (lc.data.user?.type === 'token') {
      let counted = false;
      for (const ref of wanted) {
        const placed = doc?.clusters.find((c) => c.reference === ref.name && c.state === 'Applied');
        if (!placed || !credentials?.generationId || !TOKEN_STATES.includes(doc!.state)) continue;
        // Counted once per download, before its first token is requested (a refused one requests none).
        if (!counted) {
          countDownload(lc.id);
          counted = true;
        }
        entries.push(await this.tokenEntry(lc, ref, tenantServiceAccount(credentials.generationId)));
      }
    } else {
      for (const ref of wanted) {
        const certificate = credentials?.certificates.find((c) => c.reference === ref.name);
        if (!certificate || !doc || !CERTIFICATE_STATES.includes(doc.state)) continue;
        const cluster = await this.clusters.get(ref.data.clusterProvider, ref.data.cluster);
        entries.push({
          ...clusterPart(ref, cluster),
          userName: lc.data.user!.name,
          clientCertificatePem: certificate.certificate,
          clientKeyPem: credentials!.privateKey,
          namespace: lc.data.namespace,
        });
      }
    }
    if (entries.length === 0) {
      const state = STATUS_TEXT[doc?.state ?? 'Created'];
      const what = reference ? `cluster reference ${reference}` : 'any cluster';
      const credential = lc.data.user?.type === 'token' ? 'ServiceAccount' : 'certificate';
      throw new StateConflictError(
        `Logical Cloud ${lc.name} has no ${credential} for ${what} yet (status: ${state}); apply it and wait for Created`,
      );
    }
    return buildKubeconfig(entries);
  }

  /** A token user's entry: a new bound token of the generation's ServiceAccount. */
  private async tokenEntry(
    lc: LogicalCloudRecord,
    ref: ClusterReferenceRecord,
    serviceAccount: string,
  ): Promise<KubeconfigEntry> {
    const cluster = await this.clusters.get(ref.data.clusterProvider, ref.data.cluster);
    const connection = this.options.gateways.gatewayFor(cluster, this.clusters.secretsOf(cluster));
    try {
      const token = await connection.requestToken(lc.data.namespace, serviceAccount, this.options.tokenSeconds);
      return { ...clusterPart(ref, cluster), userName: lc.data.user!.name, token, namespace: lc.data.namespace };
    } catch (error) {
      throw new UnavailableError(`no token could be had from cluster ${ref.data.cluster}: ${(error as Error).message}`);
    } finally {
      connection.close();
    }
  }
}

/** Where the entry's cluster is and how it is trusted; named after the reference. */
const clusterPart = (ref: ClusterReferenceRecord, cluster: ClusterRecord) => ({
  clusterName: ref.name,
  server: cluster.data.server,
  ...(cluster.data.certificateAuthorityData ? { certificateAuthorityData: cluster.data.certificateAuthorityData } : {}),
  ...(cluster.data.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
});

// ---- rate limit of token users' downloads ----------------------------------------------------

const WINDOW_MS = 60_000;
/** (caller, logical cloud) pairs remembered at most; beyond, the least recently used are forgotten. */
export const DEFAULT_DOWNLOAD_LIMITER_ENTRIES = 10_000;

/** A download refused by the rate limit: REST answers 429 with Retry-After, gRPC RESOURCE_EXHAUSTED. */
export class DownloadRateLimitedError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    readonly perMinute: number,
  ) {
    super(
      `at most ${perMinute} kubeconfig downloads of a token user's logical cloud per caller and minute (each requests a new token on every cluster; ` +
        `DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE); try again in ${retryAfterSeconds} s`,
    );
    this.name = 'TooManyRequests';
  }
}

export interface DownloadRateLimiterOptions {
  /** Downloads per key and minute (a burst of as many, then one every 60 s / perMinute). */
  perMinute: number;
  /** Keys remembered at most (default DEFAULT_DOWNLOAD_LIMITER_ENTRIES). */
  maxEntries?: number;
  /** Milliseconds of a monotonic clock (tests pass their own). */
  now?: () => number;
}

/**
 * A token bucket per key, in memory (per replica): `perMinute` downloads at once, refilled at
 * `perMinute` per minute. The map is bounded: a key whose bucket is full again (untouched for a
 * minute) is dropped, and beyond `maxEntries` keys the least recently used go first.
 */
export class DownloadRateLimiter {
  readonly perMinute: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** In order of last use (a key is moved to the end when used): the oldest first. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: DownloadRateLimiterOptions) {
    if (!Number.isInteger(options.perMinute) || options.perMinute < 1)
      throw new RangeError('perMinute must be a positive integer');
    const maxEntries = options.maxEntries ?? DEFAULT_DOWNLOAD_LIMITER_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.perMinute = options.perMinute;
    this.maxEntries = maxEntries;
    this.now = options.now ?? (() => performance.now());
  }

  /** Keys remembered now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one download for the key, or throws DownloadRateLimitedError (which takes none). */
  take(key: string): void {
    const now = this.now();
    const perMs = this.perMinute / WINDOW_MS;
    const bucket = this.buckets.get(key);
    const tokens = bucket
      ? Math.min(this.perMinute, bucket.tokens + Math.max(0, now - bucket.at) * perMs)
      : this.perMinute;
    this.buckets.delete(key);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      throw new DownloadRateLimitedError(Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)), this.perMinute);
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    this.evict(now);
  }

  private evict(now: number): void {
    for (const [key, { at }] of this.buckets) {
      // Full again (a bucket refills completely within a minute) or too many keys: forgotten, oldest first.
      if (now - at < WINDOW_MS && this.buckets.size <= this.maxEntries) break;
      this.buckets.delete(key);
    }
  }
}

const downloads = new AsyncLocalStorage<{ limiter: DownloadRateLimiter; caller: string }>();

/**
 * Runs a kubeconfig download for a caller (e.g. `token:alice`): a token user's download in it
 * takes one from the limiter for (caller, logical cloud) before any token is requested, and
 * fails with DownloadRateLimitedError beyond the limit. Without a limiter nothing is counted.
 */
export function downloadAs<T>(
  limiter: DownloadRateLimiter | undefined,
  caller: string,
  download: () => Promise<T>,
): Promise<T> {
  return limiter ? downloads.run({ limiter, caller }, download) : download();
}

function countDownload(logicalCloudId: string): void {
  const context = downloads.getStore();
  context?.limiter.take(`${context.caller}\u0000${logicalCloudId}`);
}
