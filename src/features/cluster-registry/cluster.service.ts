/**
 * Clusters registered under a cluster provider, each with its admin kubeconfig (and,
 * optionally, its CA key so that tenant certificates can be signed locally). The secrets
 * live sealed in `data.secrets` (see secret-cipher.ts), are opened only by `secretsOf`, and
 * never leave the service layer in a view.
 */
import type { EventBus } from '../../jobs/event-bus.js';
import {
  DuplicateNameError,
  pairsToMap,
  type KeyValue,
  type NamedRecordStore,
  type Page,
  type PageOf,
  type StoredRecord,
} from '../../db/named-record-store.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PreconditionFailedError,
  StateConflictError,
  type FieldProblem,
} from '../../errors.js';
import { KubeconfigError } from '../../kubeconfig/kubeconfig.js';
import { privateKeyPemProblem } from '../../kubeconfig/private-key-pem.js';
import { parseAdminKubeconfig, type AdminCluster } from '../../kubeconfig/registered-kubeconfig.js';
import type { SecretCipher, StoredSecret } from '../../security/secret-cipher.js';
import type { Described } from '../metadata.js';
import type { ClusterData as RegisteredCluster, ClusterSecrets } from '../../domain/cluster.js';
import type { ClusterProviderService } from './cluster-provider.service.js';

export type { ClusterSecrets } from '../../domain/cluster.js';

export interface StoredClusterSecrets {
  kubeconfig: StoredSecret;
  caKey?: StoredSecret;
}

/** A registered cluster as stored: what the domain knows of it, and its sealed secrets. */
export interface ClusterData extends RegisteredCluster {
  secrets: StoredClusterSecrets;
}

export type ClusterRecord = StoredRecord<ClusterData>;

export interface ClusterInput extends Described {
  labels: KeyValue[];
  kubeconfig: string;
  caKey?: string;
}

export interface ClusterServiceOptions {
  /** DCM_ALLOW_INSECURE_CLUSTERS: accept kubeconfigs with `insecure-skip-tls-verify: true` or an http:// server. */
  allowInsecureClusters?: boolean;
}

/** A stored secret of a cluster that the DCM will not use (registered before the current rules, or written behind its back). */
export class ClusterSecretRefusedError extends StateConflictError {}

export class ClusterService {
  constructor(
    private readonly clusters: NamedRecordStore<ClusterData>,
    private readonly providers: ClusterProviderService,
    /** Asks the other features whether a cluster may leave the registry, and tells them when it has. */
    private readonly events: Pick<EventBus, 'objection' | 'emit'>,
    private readonly cipher: SecretCipher,
    private readonly options: ClusterServiceOptions = {},
  ) {}

  /**
   * The cluster's admin kubeconfig and CA key, opened and checked by the rules of registration
   * (parseAdminKubeconfig): a kubeconfig stored before them (or behind the DCM's back) that
   * would run a program or read a file is refused here, before anything loads it, with a
   * message naming the field and quoting nothing of it.
   */
  secretsOf(cluster: ClusterRecord): ClusterSecrets {
    const { kubeconfig, caKey } = cluster.data.secrets;
    const provider = cluster.scope.provider ?? '';
    const context = secretContext(provider, cluster.name);
    const secrets: ClusterSecrets = {
      kubeconfig: this.cipher.open(kubeconfig, `${context}/kubeconfig`),
      ...(caKey ? { caKey: this.cipher.open(caKey, `${context}/ca-key`) } : {}),
    };
    const refused = (what: string, why: string) =>
      new ClusterSecretRefusedError(
        `Cluster ${cluster.name} of cluster provider ${provider}: its stored ${what} is refused: ${why}; register the cluster again (PUT) with an accepted one`,
      );
    try {
      parseAdminKubeconfig(secrets.kubeconfig, { allowInsecure: this.options.allowInsecureClusters ?? false });
    } catch (error) {
      if (error instanceof KubeconfigError) throw refused('admin kubeconfig', error.message);
      throw refused('admin kubeconfig', 'it cannot be read');
    }
    const keyProblem = secrets.caKey === undefined ? undefined : privateKeyPemProblem(secrets.caKey);
    if (keyProblem) throw refused('CA key', `spec.ca-key ${keyProblem}`);
    return secrets;
  }

  /** Seals again, under the current key, every cluster secret sealed under an older key (or unsealed). */
  async resealSecrets(): Promise<number> {
    let resealed = 0;
    for (const cluster of await this.clusters.findWhere({}, {})) {
      const context = secretContext(cluster.scope.provider ?? '', cluster.name);
      for (const [field, suffix] of [
        ['kubeconfig', 'kubeconfig'],
        ['caKey', 'ca-key'],
      ] as const) {
        const stored = cluster.data.secrets[field];
        if (!stored || !this.cipher.isStale(stored)) continue;
        const next = this.cipher.seal(this.cipher.open(stored, `${context}/${suffix}`), `${context}/${suffix}`);
        if (await this.clusters.replaceDataField(cluster.id, `secrets.${field}`, stored, next)) resealed++;
      }
    }
    return resealed;
  }

  private toData(provider: string, name: string, input: ClusterInput): ClusterData {
    const problems: FieldProblem[] = [];
    let admin: AdminCluster | undefined;
    try {
      admin = parseAdminKubeconfig(input.kubeconfig, { allowInsecure: this.options.allowInsecureClusters ?? false });
    } catch (error) {
      if (!(error instanceof KubeconfigError)) throw error;
      problems.push(...error.problems.map((message) => ({ field: 'spec.kubeconfig', message })));
    }
    const keyProblem = input.caKey === undefined ? undefined : privateKeyPemProblem(input.caKey);
    if (keyProblem) problems.push({ field: 'spec.ca-key', message: keyProblem });
    if (!admin || problems.length > 0) throw InvalidInputError.forFields(problems);
    const { kubeconfig, caKey, labels, ...described } = input;
    return {
      ...described,
      labels,
      server: admin.server,
      ...(admin.certificateAuthorityData ? { certificateAuthorityData: admin.certificateAuthorityData } : {}),
      ...(admin.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
      secrets: {
        kubeconfig: this.cipher.seal(kubeconfig, `${secretContext(provider, name)}/kubeconfig`),
        ...(caKey ? { caKey: this.cipher.seal(caKey, `${secretContext(provider, name)}/ca-key`) } : {}),
      },
    };
  }

  async create(provider: string, name: string, input: ClusterInput): Promise<ClusterRecord> {
    await this.providers.get(provider);
    const data = this.toData(provider, name, input);
    let record: ClusterRecord;
    try {
      record = await this.clusters.create({ provider }, name, data);
    } catch (error) {
      if (error instanceof DuplicateNameError)
        throw new ConflictError(`Cluster ${name} already exists in cluster provider ${provider}`);
      throw error;
    }
    // The provider may have been deleted meanwhile, having looked for clusters before this one existed: undo.
    try {
      await this.providers.get(provider);
    } catch (error) {
      await this.clusters.delete({ provider }, name);
      throw error;
    }
    await this.events.emit('clusterRegistered', { provider, cluster: name, labels: pairsToMap(record.data.labels) });
    return record;
  }

  async get(provider: string, name: string): Promise<ClusterRecord> {
    await this.providers.get(provider);
    const cluster = await this.clusters.get({ provider }, name);
    if (!cluster) throw new NotFoundError(`Cluster ${name} not found in cluster provider ${provider}`);
    return cluster;
  }

  async list(provider: string, page: Page): Promise<PageOf<ClusterRecord>> {
    await this.providers.get(provider);
    return this.clusters.list({ provider }, page);
  }

  async update(provider: string, name: string, input: ClusterInput, expectedRevision?: number): Promise<ClusterRecord> {
    await this.providers.get(provider);
    const before = await this.clusters.get({ provider }, name);
    const outcome = await this.clusters.update(
      { provider },
      name,
      this.toData(provider, name, input),
      expectedRevision,
    );
    if (outcome.kind === 'not-found')
      throw new NotFoundError(`Cluster ${name} not found in cluster provider ${provider}`);
    if (outcome.kind === 'stale')
      throw new PreconditionFailedError(`Cluster ${name} was changed since revision ${expectedRevision}; GET it again`);
    await this.events.emit('clusterUpdated', {
      provider,
      cluster: name,
      before: pairsToMap(before?.data.labels),
      after: pairsToMap(outcome.record.data.labels),
    });
    return outcome.record;
  }

  /**
   * clm's multipart PUT: what it leaves out stays as stored — the kubeconfig when there is no file,
   * everything else (metadata, labels, CA key) when there is no metadata part. Conditional on the
   * revision read (or the caller's If-Match), so that nothing written meanwhile is lost.
   */
  async updatePartly(
    provider: string,
    name: string,
    change: { input?: Omit<ClusterInput, 'kubeconfig'>; kubeconfig?: string },
    expectedRevision?: number,
  ): Promise<ClusterRecord> {
    const stored = await this.get(provider, name);
    const secrets = this.secretsOf(stored);
    const { description, userData1, userData2, labels } = stored.data;
    const input: ClusterInput = {
      ...(change.input ?? {
        description,
        userData1,
        userData2,
        labels,
        ...(secrets.caKey ? { caKey: secrets.caKey } : {}),
      }),
      kubeconfig: change.kubeconfig ?? secrets.kubeconfig,
    };
    return this.update(provider, name, input, expectedRevision ?? stored.revision);
  }

  /**
   * The JSON PUT: description, user data and labels as given. Without a kubeconfig the stored
   * one and the stored CA key stay (unless a `ca-key` is given); a new kubeconfig replaces both
   * credentials, as a registration does. Conditional on the caller's If-Match, or on the revision read.
   */
  async relabel(
    provider: string,
    name: string,
    input: Omit<ClusterInput, 'kubeconfig'>,
    kubeconfig: string | undefined,
    expectedRevision?: number,
  ): Promise<ClusterRecord> {
    const stored = await this.get(provider, name);
    const secrets = kubeconfig === undefined ? this.secretsOf(stored) : undefined;
    const caKey = input.caKey ?? secrets?.caKey;
    const next: ClusterInput = {
      ...input,
      kubeconfig: kubeconfig ?? secrets!.kubeconfig,
      ...(caKey ? { caKey } : {}),
    };
    return this.update(provider, name, next, expectedRevision ?? stored.revision);
  }

  async delete(provider: string, name: string): Promise<void> {
    await this.get(provider, name);
    const reason = await this.events.objection('clusterUnregistering', { provider, cluster: name });
    if (reason) throw new ConflictError(`Cluster ${name} of cluster provider ${provider} ${reason}`);
    if (await this.clusters.delete({ provider }, name))
      await this.events.emit('clusterUnregistered', { provider, cluster: name });
  }

  /** Finds a cluster by name alone (the design's cluster reference names no provider). */
  /** Every registered cluster of every provider (the health prober). */
  all(): Promise<ClusterRecord[]> {
    return this.clusters.findWhere({}, {});
  }

  async findByName(name: string): Promise<ClusterRecord[]> {
    return this.clusters.findWhere({}, { name });
  }

  hasClusters(provider: string): Promise<boolean> {
    return this.clusters.count({ provider }).then((n) => n > 0);
  }
}

/** What a cluster's sealed secrets are bound to: its provider and name. */
const secretContext = (provider: string, name: string) => `cluster/${provider}/${name}`;
