/**
 * How an object on a cluster differs from what the DCM applies (its desired form): pure
 * functions, no I/O. Only what the DCM sets is compared: a field someone else added beside
 * the DCM's is not drift, except in the maps the DCM owns whole (a ResourceQuota's `hard`),
 * where an extra key changes what the quota allows.
 */

export interface DesiredObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** One difference: where, what the DCM wants there, what the cluster has. */
export interface FieldDifference {
  path: string;
  desired: unknown;
  actual: unknown;
}

/** What the DCM owns whole: a key there that the DCM did not set is drift too. */
const OWNED_WHOLE: Record<string, string[]> = {
  ResourceQuota: ['spec.hard'],
  LimitRange: ['spec.limits[0].default', 'spec.limits[0].defaultRequest'],
};

/** Fields compared with resource-quantity semantics ("1000m" is "1", "1Gi" is "1073741824"). */
const QUANTITIES: Record<string, string[]> = {
  ResourceQuota: ['spec.hard.*'],
  LimitRange: ['spec.limits[0].default.*', 'spec.limits[0].defaultRequest.*'],
};

const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number, or undefined when it is not one. */
export function quantityValue(text: unknown): number | undefined {
  if (typeof text === 'number') return text;
  if (typeof text !== 'string') return undefined;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(
    text.trim(),
  );
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[2]) return base * 10 ** Number(match[2].slice(1));
  return base * SUFFIXES[match[3] ?? '']!;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const matches = (pattern: string, path: string) => {
  const p = pattern.split('.');
  const q = path.split('.');
  return p.length === q.length && p.every((part, i) => part === '*' || part === q[i]);
};

function sameScalar(kind: string, path: string, desired: unknown, actual: unknown): boolean {
  if (desired === actual) return true;
  if ((QUANTITIES[kind] ?? []).some((pattern) => matches(pattern, path))) {
    const [a, b] = [quantityValue(desired), quantityValue(actual)];
    return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
  }
  return false;
}

function compare(kind: string, path: string, desired: unknown, actual: unknown, out: FieldDifference[]): void {
  if (isPlainObject(desired)) {
    if (!isPlainObject(actual)) {
      out.push({ path, desired, actual });
      return;
    }
    for (const [key, value] of Object.entries(desired))
      compare(kind, path ? `${path}.${key}` : key, value, actual[key], out);
    if ((OWNED_WHOLE[kind] ?? []).includes(path)) {
      for (const key of Object.keys(actual))
        if (!(key in desired)) out.push({ path: `${path}.${key}`, desired: undefined, actual: actual[key] });
    }
    return;
  }
  if (Array.isArray(desired)) {
    // Lists the DCM sets (rules, subjects) are set whole by server-side apply: compared element by element.
    if (!Array.isArray(actual) || actual.length !== desired.length) {
      out.push({ path, desired, actual });
      return;
    }
    const before = out.length;
    desired.forEach((d, i) => compare(kind, `${path}[${i}]`, d, actual[i], out));
    if (out.length > before) out.splice(before, out.length - before, { path, desired, actual });
    return;
  }
  if (!sameScalar(kind, path, desired, actual)) out.push({ path, desired, actual });
}

/**
 * The differences between the desired object and the one on the cluster: its labels,
 * annotations and every field below the metadata that the DCM sets. Empty: no drift.
 */
export function objectDifferences(desired: DesiredObject, actual: DesiredObject): FieldDifference[] {
  const kind = desired.kind ?? '';
  const out: FieldDifference[] = [];
  const { apiVersion: _v, kind: _k, metadata, ...fields } = desired;
  if (metadata?.labels) compare(kind, 'metadata.labels', metadata.labels, actual.metadata?.labels ?? {}, out);
  if (metadata?.annotations)
    compare(kind, 'metadata.annotations', metadata.annotations, actual.metadata?.annotations ?? {}, out);
  for (const [key, value] of Object.entries(fields)) compare(kind, key, value, actual[key], out);
  // A Secret's values (the mesh's CA key) never reach status or logs: where it differs is said, not what.
  if (kind === 'Secret')
    return out.map((d) => (d.path.startsWith('data') ? { path: d.path, desired: HIDDEN, actual: HIDDEN } : d));
  return out;
}

/** Shown instead of a secret value. */
const HIDDEN = '(secret value hidden)';

const shown = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 80));

/** A short account of the differences for status and logs (at most `max` of them named). */
export function describeDifferences(differences: FieldDifference[], max = 3): string {
  const named = differences.slice(0, max).map((d) => `${d.path}: ${shown(d.actual)}, want ${shown(d.desired)}`);
  const more = differences.length > max ? `; and ${differences.length - max} more` : '';
  return `${named.join('; ')}${more}`;
}
