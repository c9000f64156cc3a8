/**
 * An `$in` asked as one equality per value: FerretDB v1 does not push `$in` down (it reads and
 * decodes the whole collection in its process), but does push down each equality on a top-level
 * field; MongoDB answers either from the same index. Used for a list page's children.
 */
import type { Collection, Document, Filter } from 'mongodb';

/** At most this many equality queries in flight for one `$in`. */
const CONCURRENCY = 8;
/** Beyond this many values one scan is cheaper than as many queries. */
const MAX_VALUES = 500;

const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** The one top-level `{ key: { $in: values } }` of a filter (and the rest), when it can be split. */
export function splittableIn(
  filter: Record<string, unknown>,
): { key: string; values: unknown[]; rest: Record<string, unknown> } | undefined {
  const found = Object.entries(filter).filter(([, v]) => v !== null && typeof v === 'object' && '$in' in v);
  if (found.length !== 1) return undefined;
  const [key, condition] = found[0]! as [string, Record<string, unknown>];
  const values = condition.$in;
  if (key.includes('.') || Object.keys(condition).length !== 1 || !Array.isArray(values)) return undefined;
  if (values.length > MAX_VALUES || !values.every(isScalar)) return undefined;
  const { [key]: _in, ...rest } = filter;
  return { key, values: [...new Set(values)], rest };
}

/** The documents matching `filter`, its `$in` asked as equalities (a few at a time), each document once. */
export async function findSplittingIn<D extends Document>(
  collection: Collection<D>,
  filter: Record<string, unknown>,
): Promise<D[]> {
  const split = splittableIn(filter);
  if (!split) return (await collection.find(filter as Filter<D>).toArray()) as D[];
  const results: D[][] = new Array<D[]>(split.values.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < split.values.length; i = next++) {
      const query = { ...split.rest, [split.key]: split.values[i] } as Filter<D>;
      results[i] = (await collection.find(query).toArray()) as D[];
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, split.values.length) }, worker));
  const seen = new Set<unknown>();
  return results.flat().filter((doc) => !seen.has(doc._id) && seen.add(doc._id));
}
