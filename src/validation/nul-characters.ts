/**
 * A NUL character (U+0000) is never part of a name, a label or a description, and PostgreSQL's
 * jsonb (behind FerretDB, the embedded database) cannot store or compare one: it would reach the
 * database as an error, not as "no such name". Every request is searched for one before any
 * work, and a request with one is refused naming where it is (REST and gRPC alike).
 */

const MAX_DEPTH = 64;

/** Where in `value` a string (or key) holds a NUL character, as a field path (`spec.labels.a`), or undefined. */
export function nulCharacterAt(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '(value)' : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return undefined;
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  for (const [key, child] of entries) {
    // The path names a key with a NUL as `\u0000`: the answer never carries the character itself.
    const shown = key.replaceAll('\u0000', '\\u0000');
    const at = path ? `${path}.${shown}` : shown;
    if (key.includes('\u0000')) return at;
    const found = nulCharacterAt(child, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Whether a raw (percent-encoded) URL carries an encoded NUL character. */
export const urlHasNulCharacter = (url: string): boolean => /%00/.test(url);

export const NUL_MESSAGE = 'contains a NUL character (U+0000), which no name or value may hold';
