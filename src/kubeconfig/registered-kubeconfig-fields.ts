/**
 * The fields a registered kubeconfig may hold, why any other is refused, and the walk over its
 * entries and free-form sections that collects every problem (see registered-kubeconfig.ts).
 */
export const TOP_LEVEL = new Set([
  'apiVersion',
  'kind',
  'clusters',
  'users',
  'contexts',
  'current-context',
  'preferences',
  'extensions',
]);
const CLUSTER_FIELDS = new Set([
  'server',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'proxy-url',
  'disable-compression',
  'extensions',
]);
const USER_FIELDS = new Set(['client-certificate-data', 'client-key-data', 'token', 'extensions']);
const CONTEXT_FIELDS = new Set(['cluster', 'user', 'namespace', 'extensions']);
export const INLINE =
  'a registered kubeconfig carries only inline credentials (client-certificate-data and client-key-data, or token)';

/** Why a field that kubeconfigs know is refused (a field not known at all is refused too). */
export function refusedBecause(key: string): string {
  switch (key) {
    case 'exec':
      return `it would run a program inside the DCM; ${INLINE}`;
    case 'auth-provider':
      return `it would run an authentication plugin inside the DCM; ${INLINE}`;
    case 'username':
    case 'password':
      return `basic authentication is not accepted; ${INLINE}`;
    case 'as':
    case 'as-uid':
    case 'as-groups':
    case 'as-user-extra':
      return 'impersonation is not accepted: the DCM acts as the user the credentials name';
    default:
      if (isPathField(key))
        return `it names a file, which the DCM would read from its own file system; embed the data instead (the *-data fields, or token)`;
      return 'it is not a field the DCM accepts in a registered kubeconfig';
  }
}

/** `token-file`, `tokenFile`, `client-key`, `client-certificate`, `certificate-authority`, `*-file`, `*-path`, … */
const isPathField = (key: string): boolean =>
  ['client-certificate', 'client-key', 'certificate-authority', 'path'].includes(key) ||
  /(?:-file|-path|File|Path)$/.test(key);

/** Keys that are refused wherever they appear (also inside `extensions` and `preferences`). */
const isInstruction = (key: string): boolean =>
  ['exec', 'auth-provider', 'username', 'password'].includes(key) || isPathField(key);

/** A field's name as a refusal shows it: a name, or a placeholder for a key that is not one (a key is text of the kubeconfig too). */
export const fieldName = (key: string): string =>
  /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/.test(key) ? key : '(a field with an unusual name)';

export const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Date) &&
  !ArrayBuffer.isView(value);
const MAX_FREE_FORM_NODES = 10_000;

/** The problems found, the first MAX_PROBLEMS of them told (a refusal stays small whatever was sent). */
export class Problems {
  readonly list: string[] = [];
  private more = 0;
  add(path: string, message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(`${path} ${message}`);
    else this.more++;
  }
  get count(): number {
    return this.list.length + this.more;
  }
  /** The told problems, and how many were not told. */
  told(): string[] {
    return this.more > 0 ? [...this.list, `and ${this.more} more problems`] : this.list;
  }
}
const MAX_PROBLEMS = 20;

/**
 * Refuses instruction keys at any depth of a free-form section (extensions, preferences).
 * Each node is visited once (a YAML alias is the same object as its anchor, so an alias bomb
 * costs no more than its text), and at most MAX_FREE_FORM_NODES of them.
 */
export function scanFreeForm(root: unknown, rootPath: string, problems: Problems): void {
  const seen = new Set<object>();
  const pending: { value: unknown; path: string }[] = [{ value: root, path: rootPath }];
  // Breadth first, in document order: a node reached by several paths is reported by its shortest.
  for (let next = 0; next < pending.length; next++) {
    const { value, path } = pending[next]!;
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (seen.size > MAX_FREE_FORM_NODES)
      return problems.add(rootPath, `is too large (more than ${MAX_FREE_FORM_NODES} lists and mappings)`);
    if (Array.isArray(value)) value.forEach((item, i) => pending.push({ value: item, path: `${path}[${i}]` }));
    else if (isMapping(value)) {
      for (const [key, inner] of Object.entries(value)) {
        if (isInstruction(key)) problems.add(`${path}.${fieldName(key)}`, `is not accepted: ${refusedBecause(key)}`);
        else pending.push({ value: inner, path: `${path}.${fieldName(key)}` });
      }
    }
  }
}

/** The fields of one `cluster`, `user` or `context` mapping: only the allowed ones, each of the right type. */
function checkFields(fields: Record<string, unknown>, allowed: Set<string>, path: string, problems: Problems): void {
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'extensions') scanFreeForm(value, `${path}.extensions`, problems);
    else if (!allowed.has(key)) problems.add(`${path}.${fieldName(key)}`, `is not accepted: ${refusedBecause(key)}`);
  }
}

export interface Entry {
  name: string;
  fields: Record<string, unknown>;
  index: number;
}

/** The entries of `clusters`, `users` or `contexts`: each `{name, <kind>: {...}}`. */
export function entriesOf(
  document: Record<string, unknown>,
  list: 'clusters' | 'users' | 'contexts',
  kind: 'cluster' | 'user' | 'context',
  problems: Problems,
): Entry[] {
  const value = document[list];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(list, 'must be a list');
    return [];
  }
  const entries: Entry[] = [];
  value.forEach((item: unknown, index) => {
    const path = `${list}[${index}]`;
    if (!isMapping(item)) return problems.add(path, `must be a mapping with name and ${kind}`);
    for (const key of Object.keys(item)) {
      if (key !== 'name' && key !== kind)
        problems.add(`${path}.${fieldName(key)}`, `is not accepted: ${refusedBecause(key)}`);
    }
    if (typeof item.name !== 'string' || item.name === '') problems.add(`${path}.name`, 'must be a non-empty string');
    const fields = item[kind];
    if (fields !== undefined && fields !== null && !isMapping(fields))
      return problems.add(`${path}.${kind}`, 'must be a mapping');
    const mapping = (fields ?? {}) as Record<string, unknown>;
    checkFields(
      mapping,
      kind === 'cluster' ? CLUSTER_FIELDS : kind === 'user' ? USER_FIELDS : CONTEXT_FIELDS,
      `${path}.${kind}`,
      problems,
    );
    if (typeof item.name === 'string') entries.push({ name: item.name, fields: mapping, index });
  });
  return entries;
}
