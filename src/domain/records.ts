/**
 * The shapes every stored DCM resource shares, as plain types (the stores in src/db and the
 * metadata of src/features produce exactly these).
 */

export type Scope = Record<string, string>;

/** A named resource as stored: its id, the parents it lives under, its revision (ETag) and its data. */
export interface StoredRecord<T> {
  id: string;
  scope: Scope;
  name: string;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  data: T;
}

export interface KeyValue<V = string> {
  key: string;
  value: V;
}

/** The metadata every DCM resource carries besides its name. */
export interface Described {
  description: string;
  userData1: string;
  userData2: string;
}

/** Maps are stored as key/value lists: keys like `requests.cpu` or `app.kubernetes.io/name` are not valid field names everywhere. */
export const mapToPairs = <V>(map: Record<string, V> | undefined): KeyValue<V>[] =>
  Object.entries(map ?? {}).map(([key, value]) => ({ key, value }));

export const pairsToMap = <V>(pairs: KeyValue<V>[] | undefined): Record<string, V> =>
  Object.fromEntries((pairs ?? []).map(({ key, value }) => [key, value]));
