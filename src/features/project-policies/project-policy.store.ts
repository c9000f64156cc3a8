/**
 * One policy document per project, keyed by the project's record id (not its name): a
 * project deleted and created again under the same name starts from the default policy.
 */
import type { Collection, Db } from 'mongodb';
import { withPolicyDefaults, type ProjectPolicy } from '../../auth/tenant-policy.js';
import { mapToPairs, pairsToMap, type KeyValue } from '../../db/named-record-store.js';

type OptionalField = 'allowedLabelPrefixes' | 'podSecurity' | 'network' | 'mesh' | 'namespacePrefix';

interface PolicyDocument {
  _id: string;
  project: string;
  /** allowedLabelPrefixes, podSecurity, network, mesh and namespacePrefix are missing from documents written before they existed. */
  policy: Omit<ProjectPolicy, 'clusters' | OptionalField> &
    Partial<Pick<ProjectPolicy, OptionalField>> & {
      clusters: Omit<ProjectPolicy['clusters'], 'labels'> & { labels: KeyValue[] };
    };
  updatedAt: Date;
  updatedBy: string;
}

export interface StoredPolicy {
  policy: ProjectPolicy;
  updatedAt: Date;
  updatedBy: string;
}

export class ProjectPolicyStore {
  private readonly collection: Collection<PolicyDocument>;

  constructor(db: Db) {
    this.collection = db.collection<PolicyDocument>('projectPolicies');
  }

  async init(): Promise<void> {
    // _id is the project's id: unique by construction.
  }

  async get(projectId: string): Promise<StoredPolicy | undefined> {
    const doc = await this.collection.findOne({ _id: projectId });
    if (!doc) return undefined;
    const { clusters, ...rest } = doc.policy;
    return {
      policy: withPolicyDefaults({ ...rest, clusters: { ...clusters, labels: pairsToMap(clusters.labels) } }),
      updatedAt: doc.updatedAt,
      updatedBy: doc.updatedBy,
    };
  }

  async put(projectId: string, project: string, policy: ProjectPolicy, updatedBy: string): Promise<StoredPolicy> {
    const updatedAt = new Date();
    const stored = {
      ...policy,
      clusters: { ...policy.clusters, labels: mapToPairs(policy.clusters.labels) },
      allowedLabelPrefixes: [...policy.allowedLabelPrefixes],
    };
    await this.collection.replaceOne(
      { _id: projectId },
      { project, policy: stored, updatedAt, updatedBy },
      { upsert: true },
    );
    return { policy, updatedAt, updatedBy };
  }

  async delete(projectId: string): Promise<void> {
    await this.collection.deleteOne({ _id: projectId });
  }
}
