/**
 * The last known health of each registered cluster: one document per cluster, replaced by a
 * single upsert after every probe (whichever replica probed last wins; every probe is complete).
 */
import type { Collection, Db } from 'mongodb';

export interface ClusterHealth {
  provider: string;
  cluster: string;
  /** The API server answered (GET /version). */
  reachable: boolean;
  /** GET /readyz answered 200. */
  ready: boolean;
  /** The API server's gitVersion, e.g. v1.34.4. */
  version?: string;
  /** Why it is not reachable or not ready. */
  message?: string;
  checkedAt: Date;
  /** When reachable/ready last changed. */
  since: Date;
}

interface HealthDocument extends ClusterHealth {
  _id: string;
}

const key = (provider: string, cluster: string) => `${provider}/${cluster}`;

export class ClusterHealthStore {
  private readonly collection: Collection<HealthDocument>;

  constructor(db: Db) {
    this.collection = db.collection<HealthDocument>('clusterHealth');
  }

  async init(): Promise<void> {
    // _id is provider/cluster: unique by construction.
  }

  async get(provider: string, cluster: string): Promise<ClusterHealth | undefined> {
    const doc = await this.collection.findOne({ _id: key(provider, cluster) });
    if (!doc) return undefined;
    const { _id, ...health } = doc;
    return health;
  }

  /** Every cluster's last probe (the cluster selection's view of the fleet). */
  async all(): Promise<ClusterHealth[]> {
    const docs = await this.collection.find({}).toArray();
    return docs.map(({ _id, ...health }) => health);
  }

  /** Records a probe; `since` carries over while reachable/ready stay as they were. */
  async record(probe: Omit<ClusterHealth, 'since'>): Promise<ClusterHealth> {
    const previous = await this.get(probe.provider, probe.cluster);
    const unchanged =
      previous !== undefined && previous.reachable === probe.reachable && previous.ready === probe.ready;
    const health: ClusterHealth = { ...probe, since: unchanged ? previous.since : probe.checkedAt };
    await this.collection.replaceOne({ _id: key(probe.provider, probe.cluster) }, health, { upsert: true });
    return health;
  }

  async forget(provider: string, cluster: string): Promise<void> {
    await this.collection.deleteOne({ _id: key(provider, cluster) });
  }
}
