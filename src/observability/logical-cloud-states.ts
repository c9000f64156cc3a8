/**
 * Logical clouds per lifecycle state, and the nearest tenant certificate expiry, read from the
 * stores (so every replica reports the same numbers): a logical cloud's state is in its
 * lifecycle status document (same id); one without such a document was never applied and is
 * `Created`.
 */
import { STATUS_TEXT } from '../features/lifecycle/lifecycle.service.js';
import type { AssignmentDocument } from '../features/overall-quotas/overall-quota-assignment.store.js';
import { overallQuotaStatus } from '../features/overall-quotas/overall-quota-report.js';
import { toMilli } from '../features/overall-quotas/milli-quantity.js';

const STATES = Object.keys(STATUS_TEXT);

/** The queries of the stores the gauges read. */
export interface MetricsSources {
  logicalClouds: { ids(): Promise<string[]> };
  lifecycle: { states(): Promise<Map<string, string>> };
  credentials: { nearestExpiry(): Promise<Date | undefined> };
  overallQuotaAssignments?: { all(): Promise<AssignmentDocument[]> };
}

/** One key of one overall quota, as the gauges show it (quantities in their base unit: CPUs, bytes, objects). */
export interface OverallQuotaSample {
  project: string;
  logicalCloud: string;
  quota: string;
  key: string;
  hard: number;
  used: number;
}

/** Series of the overall-quota gauges at most (every series beyond is left out): a bounded label set. */
export const OVERALL_QUOTA_SERIES = 2000;

const units = (quantity: string): number => Number(toMilli(quantity) ?? 0n) / 1000;

/** hard and used of every key of every overall quota, as the rebalancer last recorded them. */
export function overallQuotaSamples(stores: Pick<MetricsSources, 'overallQuotaAssignments'>) {
  return async (): Promise<OverallQuotaSample[]> => {
    const docs = (await stores.overallQuotaAssignments?.all()) ?? [];
    return docs
      .flatMap((doc) =>
        overallQuotaStatus(doc).keys.map((k) => ({
          project: doc.project,
          logicalCloud: doc.logicalCloud,
          quota: doc.quota,
          key: k.key,
          hard: units(k.hard),
          used: units(k.used),
        })),
      )
      .slice(0, OVERALL_QUOTA_SERIES);
  };
}

export function logicalCloudStates(stores: Pick<MetricsSources, 'logicalClouds' | 'lifecycle'>) {
  return async (): Promise<Map<string, number>> => {
    const [ids, stateOf] = await Promise.all([stores.logicalClouds.ids(), stores.lifecycle.states()]);
    const counts = new Map(STATES.map((state) => [state, 0]));
    for (const id of ids) {
      const state = stateOf.get(id) ?? 'Created';
      counts.set(state, (counts.get(state) ?? 0) + 1);
    }
    return counts;
  };
}

/** The nearest `notAfter` of any stored tenant certificate (every replica reads the same). */
export function nearestCertificateExpiry(stores: Pick<MetricsSources, 'credentials'>) {
  return (): Promise<Date | undefined> => stores.credentials.nearestExpiry();
}
