/**
 * Tenant kubeconfigs (one client certificate per cluster) and reading an admin kubeconfig.
 *
 * Naming in a built kubeconfig, for each entry:
 *   cluster  `<clusterName>`
 *   user     `<userName>@<clusterName>` — always, even with a single entry, so that the
 *            certificates of different clusters never collide under one user name
 *   context  `contextName`, by default `<userName>@<clusterName>`
 * `current-context` is the given one, by default the first entry's context.
 */
import { createPrivateKey } from 'node:crypto';
import yaml from 'js-yaml';

export class KubeconfigError extends Error {
  constructor(
    message: string,
    /** Each problem on its own (a registered kubeconfig's refusal lists them all), naming the field. */
    readonly problems: string[] = [message],
  ) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

export interface KubeconfigEntry {
  clusterName: string;
  server: string;
  /** Base64 of the cluster CA bundle PEM. */
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  userName: string;
  /** A client certificate and its key, or a bearer `token` (token users). */
  clientCertificatePem?: string;
  clientKeyPem?: string;
  token?: string;
  namespace: string;
  contextName?: string;
}

export interface KubeconfigCluster {
  name: string;
  cluster: { server: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean };
}
export interface KubeconfigUser {
  name: string;
  user: { 'client-certificate-data': string; 'client-key-data': string } | { token: string };
}
export interface KubeconfigContext {
  name: string;
  context: { cluster: string; user: string; namespace: string };
}
export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: KubeconfigCluster[];
  users: KubeconfigUser[];
  contexts: KubeconfigContext[];
  'current-context': string;
  preferences: Record<string, never>;
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new KubeconfigError(`${what} is missing`);
  return value;
}

/** Adds `item` unless an equal one of the same name is there; a different one is an error. */
function addOnce<T extends { name: string }>(list: T[], item: T, kind: string): void {
  const existing = list.find((x) => x.name === item.name);
  if (!existing) list.push(item);
  else if (JSON.stringify(existing) !== JSON.stringify(item)) {
    throw new KubeconfigError(`two different ${kind}s would both be named "${item.name}"`);
  }
}

/** The user entry's credential: a client certificate and key, or a token (never both). */
function entryCredential(entry: KubeconfigEntry, where: string): KubeconfigUser['user'] {
  if (entry.token !== undefined) {
    if (entry.clientCertificatePem !== undefined || entry.clientKeyPem !== undefined) throw new KubeconfigError(`${where}: a token or a client certificate, not both`);
    return { token: requireText(entry.token, `${where}: token`) };
  }
  const cert = requireText(entry.clientCertificatePem, `${where}: clientCertificatePem`);
  const key = requireText(entry.clientKeyPem, `${where}: clientKeyPem`);
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new KubeconfigError(`${where}: clientCertificatePem is not a PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new KubeconfigError(`${where}: clientKeyPem is not a PEM private key`);
  return { 'client-certificate-data': base64(cert), 'client-key-data': base64(key) };
}

/** A kubeconfig with one cluster, user and context per entry (see the naming above). */
export function buildKubeconfig(entries: KubeconfigEntry[], currentContext?: string): Kubeconfig {
  if (entries.length === 0) throw new KubeconfigError('a kubeconfig needs at least one entry');
  const clusters: KubeconfigCluster[] = [];
  const users: KubeconfigUser[] = [];
  const contexts: KubeconfigContext[] = [];
  entries.forEach((entry, i) => {
    const clusterName = requireText(entry.clusterName, `entry ${i}: clusterName`);
    const userName = requireText(entry.userName, `entry ${i}: userName`);
    const where = `entry ${i} (${userName}@${clusterName})`;
    const server = requireText(entry.server, `${where}: server`);
    const namespace = requireText(entry.namespace, `${where}: namespace`);
    const credential = entryCredential(entry, where);
    const ca = entry.certificateAuthorityData?.replace(/\s+/g, '');
    if (ca !== undefined && !BASE64.test(ca)) throw new KubeconfigError(`${where}: certificateAuthorityData is not base64`);
    if (ca && entry.insecureSkipTlsVerify) {
      throw new KubeconfigError(`${where}: certificateAuthorityData and insecureSkipTlsVerify cannot be combined`);
    }

    const user = `${userName}@${clusterName}`;
    const context = entry.contextName ?? user;
    addOnce(clusters, {
      name: clusterName,
      cluster: {
        server,
        ...(ca && { 'certificate-authority-data': ca }),
        ...(entry.insecureSkipTlsVerify && { 'insecure-skip-tls-verify': true }),
      },
    }, 'cluster');
    addOnce(users, { name: user, user: credential }, 'user');
    addOnce(contexts, { name: requireText(context, `${where}: contextName`), context: { cluster: clusterName, user, namespace } }, 'context');
  });
  const current = currentContext ?? contexts[0]!.name;
  if (!contexts.some((c) => c.name === current)) {
    throw new KubeconfigError(`current context "${current}" is not one of the contexts: ${contexts.map((c) => c.name).join(', ')}`);
  }
  return { apiVersion: 'v1', kind: 'Config', clusters, users, contexts, 'current-context': current, preferences: {} };
}

export function kubeconfigToYaml(k: Kubeconfig): string {
  return yaml.dump(k, { lineWidth: -1, noRefs: true });
}

export function kubeconfigToJson(k: Kubeconfig): string {
  return `${JSON.stringify(k, null, 2)}\n`;
}

// ---- registered admin kubeconfigs -----------------------------------------------------------
//
// A registered kubeconfig carries data, never instructions: it is loaded into
// @kubernetes/client-node, which runs `exec` and `auth-provider` plugins, reads `token-file`
// and every file path (`client-certificate`, `client-key`, `certificate-authority`) from the
// DCM's own file system and sends what it read to the kubeconfig's server. So every entry (not
// only the one the current context uses) may hold only the fields below; the user of the
// current context must carry inline credentials (client-certificate-data + client-key-data,
// or token). Refusals name the field (`users[0].user.exec`) and never quote a value.

/** What the DCM does with a registered kubeconfig: `allowInsecure` (DCM_ALLOW_INSECURE_CLUSTERS) accepts `insecure-skip-tls-verify: true` and http:// servers. */
export interface AdminKubeconfigOptions {
  allowInsecure?: boolean;
}

export interface AdminCluster {
  clusterName: string;
  server: string;
  /** Base64 of the CA bundle PEM, as in the kubeconfig. */
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
}

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'clusters', 'users', 'contexts', 'current-context', 'preferences', 'extensions']);
const CLUSTER_FIELDS = new Set(['server', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'proxy-url', 'disable-compression', 'extensions']);
const USER_FIELDS = new Set(['client-certificate-data', 'client-key-data', 'token', 'extensions']);
const CONTEXT_FIELDS = new Set(['cluster', 'user', 'namespace', 'extensions']);
const INLINE = 'a registered kubeconfig carries only inline credentials (client-certificate-data and client-key-data, or token)';

/** Why a field that kubeconfigs know is refused (a field not known at all is refused too). */
function refusedBecause(key: string): string {
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
      if (isPathField(key)) return `it names a file, which the DCM would read from its own file system; embed the data instead (the *-data fields, or token)`;
      return 'it is not a field the DCM accepts in a registered kubeconfig';
  }
}

/** `token-file`, `tokenFile`, `client-key`, `client-certificate`, `certificate-authority`, `*-file`, `*-path`, … */
const isPathField = (key: string): boolean =>
  ['client-certificate', 'client-key', 'certificate-authority', 'path'].includes(key) || /(?:-file|-path|File|Path)$/.test(key);

/** Keys that are refused wherever they appear (also inside `extensions` and `preferences`). */
const isInstruction = (key: string): boolean =>
  ['exec', 'auth-provider', 'username', 'password'].includes(key) || isPathField(key);

/** A field's name as a refusal shows it: a name, or a placeholder for a key that is not one (a key is text of the kubeconfig too). */
const fieldName = (key: string): string => (/^[A-Za-z][A-Za-z0-9_.-]{0,39}$/.test(key) ? key : '(a field with an unusual name)');

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !ArrayBuffer.isView(value);
const MAX_FREE_FORM_NODES = 10_000;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/;
const PEM_PRIVATE_KEY_ONLY = /^\s*-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1-----\s*$/;

/** Why `text` is not one inline, unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1), or undefined when it is. Never quotes the text. */
export function privateKeyPemProblem(text: unknown): string | undefined {
  if (typeof text !== 'string' || !PEM_PRIVATE_KEY_ONLY.test(text)) {
    return 'must be one inline PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted) and nothing else';
  }
  try {
    createPrivateKey({ key: text, format: 'pem' });
  } catch {
    return 'is not a readable PEM private key';
  }
  return undefined;
}

/** Decodes strict base64 (whitespace allowed), or undefined. */
function decodeBase64(value: string): string | undefined {
  const compact = value.replace(/\s+/g, '');
  if (compact === '' || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** The problems found, the first MAX_PROBLEMS of them told (a refusal stays small whatever was sent). */
class Problems {
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
function scanFreeForm(root: unknown, rootPath: string, problems: Problems): void {
  const seen = new Set<object>();
  const pending: { value: unknown; path: string }[] = [{ value: root, path: rootPath }];
  // Breadth first, in document order: a node reached by several paths is reported by its shortest.
  for (let next = 0; next < pending.length; next++) {
    const { value, path } = pending[next]!;
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (seen.size > MAX_FREE_FORM_NODES) return problems.add(rootPath, `is too large (more than ${MAX_FREE_FORM_NODES} lists and mappings)`);
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

function checkUrl(value: unknown, path: string, schemes: string[], problems: Problems): URL | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(path, 'is missing');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.add(path, 'is not a URL');
    return undefined;
  }
  if (!schemes.includes(url.protocol)) {
    problems.add(path, `must be a URL with ${schemes.map((s) => s.replace(/:$/, '')).join(', ')}`);
    return undefined;
  }
  if (url.username || url.password) {
    problems.add(path, 'must not carry credentials (user:password@)');
    return undefined;
  }
  return url;
}

interface Entry {
  name: string;
  fields: Record<string, unknown>;
  index: number;
}

/** The entries of `clusters`, `users` or `contexts`: each `{name, <kind>: {...}}`. */
function entriesOf(document: Record<string, unknown>, list: 'clusters' | 'users' | 'contexts', kind: 'cluster' | 'user' | 'context', problems: Problems): Entry[] {
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
      if (key !== 'name' && key !== kind) problems.add(`${path}.${fieldName(key)}`, `is not accepted: ${refusedBecause(key)}`);
    }
    if (typeof item.name !== 'string' || item.name === '') problems.add(`${path}.name`, 'must be a non-empty string');
    const fields = item[kind];
    if (fields !== undefined && fields !== null && !isMapping(fields)) return problems.add(`${path}.${kind}`, 'must be a mapping');
    const mapping = (fields ?? {}) as Record<string, unknown>;
    checkFields(mapping, kind === 'cluster' ? CLUSTER_FIELDS : kind === 'user' ? USER_FIELDS : CONTEXT_FIELDS, `${path}.${kind}`, problems);
    if (typeof item.name === 'string') entries.push({ name: item.name, fields: mapping, index });
  });
  return entries;
}

function checkCluster(entry: Entry, options: AdminKubeconfigOptions, problems: Problems): void {
  const path = `clusters[${entry.index}].cluster`;
  const { fields } = entry;
  const insecure = fields['insecure-skip-tls-verify'];
  if (insecure !== undefined && typeof insecure !== 'boolean') problems.add(`${path}.insecure-skip-tls-verify`, 'must be true or false');
  if (insecure === true && !options.allowInsecure) {
    problems.add(`${path}.insecure-skip-tls-verify`, 'is not accepted: the DCM verifies every cluster it reaches (embed its CA as certificate-authority-data; DCM_ALLOW_INSECURE_CLUSTERS=true allows insecure clusters)');
  }
  const server = checkUrl(fields.server, `${path}.server`, ['https:', 'http:'], problems);
  if (server?.protocol === 'http:' && !options.allowInsecure) {
    problems.add(`${path}.server`, 'must be an https URL (DCM_ALLOW_INSECURE_CLUSTERS=true allows http)');
  }
  const ca = fields['certificate-authority-data'];
  if (ca !== undefined) {
    const decoded = typeof ca === 'string' ? decodeBase64(ca) : undefined;
    if (decoded === undefined) problems.add(`${path}.certificate-authority-data`, 'is not base64');
    else if (!PEM_CERTIFICATE.test(decoded)) problems.add(`${path}.certificate-authority-data`, 'is not base64 of PEM certificates');
  }
  if (fields['tls-server-name'] !== undefined && typeof fields['tls-server-name'] !== 'string') problems.add(`${path}.tls-server-name`, 'must be a string');
  if (fields['disable-compression'] !== undefined && typeof fields['disable-compression'] !== 'boolean') problems.add(`${path}.disable-compression`, 'must be true or false');
  if (fields['proxy-url'] !== undefined) checkUrl(fields['proxy-url'], `${path}.proxy-url`, ['http:', 'https:', 'socks:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:'], problems);
}

/** Checks one user's fields; answers whether it carries complete inline credentials. */
function checkUser(entry: Entry, problems: Problems): boolean {
  const path = `users[${entry.index}].user`;
  const { fields } = entry;
  const cert = fields['client-certificate-data'];
  const key = fields['client-key-data'];
  const token = fields.token;
  let complete = false;
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined) problems.add(path, 'has client-key-data without client-certificate-data');
    else if (key === undefined) problems.add(path, 'has client-certificate-data without client-key-data');
    let good = cert !== undefined && key !== undefined;
    if (cert !== undefined) {
      const decoded = typeof cert === 'string' ? decodeBase64(cert) : undefined;
      if (decoded === undefined || !PEM_CERTIFICATE.test(decoded)) {
        problems.add(`${path}.client-certificate-data`, 'is not base64 of a PEM certificate');
        good = false;
      }
    }
    if (key !== undefined) {
      const decoded = typeof key === 'string' ? decodeBase64(key) : undefined;
      const problem = decoded === undefined ? 'is not base64' : privateKeyPemProblem(decoded);
      if (problem) {
        problems.add(`${path}.client-key-data`, problem === 'is not base64' ? problem : `is not base64 of a PEM private key: it ${problem}`);
        good = false;
      }
    }
    complete = good;
  }
  if (token !== undefined) {
    if (typeof token !== 'string' || token === '' || !/^[\x21-\x7e]+$/.test(token)) {
      problems.add(`${path}.token`, 'must be a non-empty string of printable characters without spaces');
    } else complete = true;
  }
  return complete;
}

function parseDocument(text: string): Record<string, unknown> {
  let document: unknown;
  try {
    // The schema @kubernetes/client-node loads kubeconfigs with (merge keys included): what is checked is what it would load. JSON is YAML too.
    document = yaml.load(text, { schema: yaml.DEFAULT_SCHEMA });
  } catch (error) {
    const { reason, mark } = error as { reason?: unknown; mark?: { line?: number; column?: number } };
    const why = typeof reason === 'string' ? `: ${reason.replace(/!<[^>]*>|"[^"]*"|'[^']*'/g, '…')}` : '';
    const where = typeof mark?.line === 'number' ? ` (line ${mark.line + 1}, column ${(mark.column ?? 0) + 1})` : '';
    throw new KubeconfigError(`kubeconfig is neither YAML nor JSON${why}${where}`);
  }
  if (!isMapping(document)) throw new KubeconfigError('kubeconfig is not a mapping (expected apiVersion, clusters, contexts, …)');
  return document;
}

/**
 * Checks a registered admin kubeconfig (YAML or JSON) and answers the cluster its current
 * context points to. Throws KubeconfigError listing every problem (each naming its field,
 * none quoting a value): a field that would make the DCM run a program or read a file, on
 * any entry; insecure TLS unless allowed; a current context whose user has no inline
 * credentials.
 */
export function parseAdminKubeconfig(text: string, options: AdminKubeconfigOptions = {}): AdminCluster {
  const document = parseDocument(text);
  const problems = new Problems();
  for (const key of Object.keys(document)) {
    if (key === 'extensions' || key === 'preferences') scanFreeForm(document[key], key, problems);
    else if (!TOP_LEVEL.has(key)) problems.add(fieldName(key), `is not accepted: ${refusedBecause(key)}`);
  }
  const clusters = entriesOf(document, 'clusters', 'cluster', problems);
  const users = entriesOf(document, 'users', 'user', problems);
  const contexts = entriesOf(document, 'contexts', 'context', problems);
  for (const cluster of clusters) checkCluster(cluster, options, problems);
  const complete = new Map(users.map((user) => [user, checkUser(user, problems)]));
  for (const context of contexts) {
    for (const field of ['cluster', 'user', 'namespace'] as const) {
      const value = context.fields[field];
      if (value !== undefined && typeof value !== 'string') problems.add(`contexts[${context.index}].context.${field}`, 'must be a string');
    }
  }

  // What the DCM uses: the current context's cluster and user (@kubernetes/client-node takes the first of a name).
  const result = ((): AdminCluster | undefined => {
    if (clusters.length === 0) return void problems.add('clusters', 'is missing or empty: kubeconfig has no clusters');
    const current = document['current-context'];
    if (current === undefined || current === null || current === '') return void problems.add('current-context', 'is missing: the DCM connects as the user of the current context');
    if (typeof current !== 'string') return void problems.add('current-context', 'must be a string');
    const context = contexts.find((c) => c.name === current);
    if (!context) return void problems.add('current-context', 'names a context that does not exist');
    const where = `contexts[${context.index}].context`;
    const clusterName = context.fields.cluster;
    if (typeof clusterName !== 'string' || clusterName === '') return void problems.add(`${where}.cluster`, 'is missing: the current context names no cluster');
    const cluster = clusters.find((c) => c.name === clusterName);
    if (!cluster) return void problems.add(`${where}.cluster`, 'names a cluster that does not exist');
    const userName = context.fields.user;
    if (typeof userName !== 'string' || userName === '') return void problems.add(`${where}.user`, `is missing: ${INLINE}`);
    const user = users.find((u) => u.name === userName);
    if (!user) return void problems.add(`${where}.user`, 'names a user that does not exist');
    if (!complete.get(user) && !problems.list.some((p) => p.startsWith(`users[${user.index}]`))) {
      problems.add(`users[${user.index}].user`, `has no credentials: ${INLINE}`);
    }
    const { fields } = cluster;
    const ca = typeof fields['certificate-authority-data'] === 'string' ? fields['certificate-authority-data'].replace(/\s+/g, '') : undefined;
    return {
      clusterName: cluster.name,
      server: typeof fields.server === 'string' ? fields.server : '',
      ...(ca && { certificateAuthorityData: ca }),
      ...(typeof fields['insecure-skip-tls-verify'] === 'boolean' && { insecureSkipTlsVerify: fields['insecure-skip-tls-verify'] }),
    };
  })();
  if (problems.count > 0 || !result) throw new KubeconfigError(problems.told().join('; '), problems.told());
  return result;
}
