/**
 * Logical clouds per lifecycle state, straight from MongoDB (so every replica reports the
 * same numbers): a logical cloud's state is in its `lifecycle` document (same `_id`); one
 * without such a document was never applied and is `Created`.
 */
import type { Db } from 'mongodb';
import { STATUS_TEXT } from '../features/lifecycle/lifecycle.service.js';

const STATES = Object.keys(STATUS_TEXT);

export function logicalCloudStates(db: Db): () => Promise<Map<string, number>> {
  const logicalClouds = db.collection<{ _id: string }>('logicalClouds');
  const lifecycle = db.collection<{ _id: string; state?: string }>('lifecycle');
  return async () => {
    const [clouds, documents] = await Promise.all([
      logicalClouds.find({}, { projection: { _id: 1 } }).toArray(),
      lifecycle.find({}, { projection: { _id: 1, state: 1 } }).toArray(),
    ]);
    const stateOf = new Map(documents.map((d) => [String(d._id), d.state ?? 'Created']));
    const counts = new Map(STATES.map((state) => [state, 0]));
    for (const { _id } of clouds) {
      const state = stateOf.get(String(_id)) ?? 'Created';
      counts.set(state, (counts.get(state) ?? 0) + 1);
    }
    return counts;
  };
}

/**
 * The nearest `notAfter` of any stored tenant certificate (every replica reads the same): one
 * document per (logical cloud, reference) in `tenantCertificates`, and arrays of certificates
 * stored in `userCredentials` before those existed.
 */
export function nearestCertificateExpiry(db: Db): () => Promise<Date | undefined> {
  const certificates = db.collection<{ _id: string; notAfter: Date }>('tenantCertificates');
  const credentials = db.collection<{ _id: string; certificates?: { notAfter: Date }[] }>('userCredentials');
  return async () => {
    const [stored, legacy] = await Promise.all([
      certificates.find({}, { projection: { notAfter: 1 } }).toArray(),
      credentials.find({ certificates: { $exists: true } }, { projection: { 'certificates.notAfter': 1 } }).toArray(),
    ]);
    let nearest: Date | undefined;
    for (const c of [...stored, ...legacy.flatMap((doc) => doc.certificates ?? [])]) if (!nearest || c.notAfter < nearest) nearest = c.notAfter;
    return nearest;
  };
}
