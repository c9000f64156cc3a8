/**
 * Logical clouds per lifecycle state, and the nearest tenant certificate expiry, read from the
 * stores (so every replica reports the same numbers): a logical cloud's state is in its
 * lifecycle status document (same id); one without such a document was never applied and is
 * `Created`.
 */
import { STATUS_TEXT } from '../features/lifecycle/lifecycle.service.js';

const STATES = Object.keys(STATUS_TEXT);

/** The queries of the stores the gauges read. */
export interface MetricsSources {
  logicalClouds: { ids(): Promise<string[]> };
  lifecycle: { states(): Promise<Map<string, string>> };
  credentials: { nearestExpiry(): Promise<Date | undefined> };
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
