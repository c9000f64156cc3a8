/**
 * Seeding the scale section's logical clouds in bulk: the first ones are created through the REST
 * API (bench/scale.ts), and the rest are copies of the first one's stored documents — the logical
 * cloud, its children and their name entries (src/db/record-names.ts) — with only its id, names,
 * namespace and user changed, inserted with insertMany into the same collections.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Document } from 'mongodb';
import { namesCollectionOf } from '../src/db/record-names.js';

export const PROJECT = 'bench';
export const PROVIDER = 'bench-provider';
const CHILD_COLLECTIONS = ['userPermissions', 'clusterReferences', 'clusterQuotas'] as const;
const COLLECTIONS = ['logicalClouds', ...CHILD_COLLECTIONS] as const;

export const lcName = (i: number) => `lc-${String(i).padStart(5, '0')}`;
export const namespaceOf = (i: number) => `ns-${String(i).padStart(5, '0')}`;
export const userOf = (i: number) => `user-${String(i).padStart(5, '0')}`;

/** Runs `work(i)` for i in [from, to) with at most `concurrency` at a time. */
export async function forEachConcurrently(
  from: number,
  to: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, to - from) }, async () => {
      while (next < to) await work(next++);
    }),
  );
}

/** A copy of a stored document with every string equal to a key of `rename` replaced (ids, names, namespace, user). */
function renamed<T>(value: T, rename: Map<string, string>, now: Date): T {
  if (typeof value === 'string') return (rename.get(value) ?? value) as T;
  if (value instanceof Date) return new Date(now) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => renamed(v, rename, now)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamed(v, rename, now)])) as T;
  }
  return value;
}

/** A stored document and its name entry. */
interface Stored {
  doc: Document;
  entry: Document;
}

/** The template logical cloud's documents: itself and its children (2 permissions, 2 references, 1 quota). */
async function templateOf(db: Db): Promise<Record<(typeof COLLECTIONS)[number], Stored[]>> {
  const template = await db.collection('logicalClouds').findOne({ project: PROJECT, name: lcName(0) });
  if (!template) throw new Error(`${lcName(0)} not stored`);
  const read = async (collection: string, filter: Document): Promise<Stored[]> => {
    const docs = await db.collection(collection).find(filter).toArray();
    return Promise.all(
      docs.map(async (doc) => {
        const entry = await db.collection(namesCollectionOf(collection)).findOne({ _id: doc._id });
        if (!entry) throw new Error(`${collection} ${String(doc.name)} has no name entry`);
        return { doc, entry };
      }),
    );
  };
  const stored = {
    logicalClouds: await read('logicalClouds', { _id: template._id }),
    userPermissions: await read('userPermissions', { logicalCloudId: template._id }),
    clusterReferences: await read('clusterReferences', { logicalCloudId: template._id }),
    clusterQuotas: await read('clusterQuotas', { logicalCloudId: template._id }),
  };
  const counts = CHILD_COLLECTIONS.map((c) => stored[c].length);
  if (counts.join() !== '2,2,1') throw new Error(`unexpected children of ${lcName(0)}: ${JSON.stringify(counts)}`);
  return stored;
}

/** Copies logical cloud 0 as logical clouds [from, to), in batches of `batch`. */
export async function seedInBulk(db: Db, from: number, to: number, batch = 1000): Promise<void> {
  const template = await templateOf(db);
  const templateId = template.logicalClouds[0]!.doc._id as unknown as string;
  for (let first = from; first < to; first += batch) {
    const last = Math.min(to, first + batch);
    const now = new Date();
    const docs = new Map<string, Document[]>(
      COLLECTIONS.flatMap((c) => [
        [c, []],
        [namesCollectionOf(c), []],
      ]),
    );
    for (let i = first; i < last; i++) {
      const id = randomUUID();
      const rename = new Map([
        [templateId, id],
        [lcName(0), lcName(i)],
        [namespaceOf(0), namespaceOf(i)],
        [userOf(0), userOf(i)],
      ]);
      for (const collection of COLLECTIONS) {
        for (const { doc, entry } of template[collection]) {
          const copyId = collection === 'logicalClouds' ? id : randomUUID();
          docs.get(collection)!.push({ ...renamed(doc, rename, now), _id: copyId });
          docs.get(namesCollectionOf(collection))!.push({ ...renamed(entry, rename, now), _id: copyId });
        }
      }
    }
    for (const [collection, list] of docs) await db.collection(collection).insertMany(list, { ordered: false });
  }
}
