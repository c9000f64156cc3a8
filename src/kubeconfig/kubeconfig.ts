/**
 * Tenant kubeconfigs (one client certificate or token per cluster): the document, how it is built
 * and written. Registered admin kubeconfigs are checked in registered-kubeconfig.ts.
 *
 * Naming in a built kubeconfig, for each entry:
 *   cluster  `<clusterName>`
 *   user     `<userName>@<clusterName>` — always, even with a single entry, so that the
 *            certificates of different clusters never collide under one user name
 *   context  `contextName`, by default `<userName>@<clusterName>`
 * `current-context` is the given one, by default the first entry's context.
 */
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
/** Strict base64 (no whitespace). */
export const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

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
    if (entry.clientCertificatePem !== undefined || entry.clientKeyPem !== undefined)
      throw new KubeconfigError(`${where}: a token or a client certificate, not both`);
    return { token: requireText(entry.token, `${where}: token`) };
  }
  const cert = requireText(entry.clientCertificatePem, `${where}: clientCertificatePem`);
  const key = requireText(entry.clientKeyPem, `${where}: clientKeyPem`);
  if (!cert.includes('-----BEGIN CERTIFICATE-----'))
    throw new KubeconfigError(`${where}: clientCertificatePem is not a PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key))
    throw new KubeconfigError(`${where}: clientKeyPem is not a PEM private key`);
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
    if (ca !== undefined && !BASE64.test(ca))
      throw new KubeconfigError(`${where}: certificateAuthorityData is not base64`);
    if (ca && entry.insecureSkipTlsVerify) {
      throw new KubeconfigError(`${where}: certificateAuthorityData and insecureSkipTlsVerify cannot be combined`);
    }

    const user = `${userName}@${clusterName}`;
    const context = entry.contextName ?? user;
    addOnce(
      clusters,
      {
        name: clusterName,
        cluster: {
          server,
          ...(ca && { 'certificate-authority-data': ca }),
          ...(entry.insecureSkipTlsVerify && { 'insecure-skip-tls-verify': true }),
        },
      },
      'cluster',
    );
    addOnce(users, { name: user, user: credential }, 'user');
    addOnce(
      contexts,
      { name: requireText(context, `${where}: contextName`), context: { cluster: clusterName, user, namespace } },
      'context',
    );
  });
  const current = currentContext ?? contexts[0]!.name;
  if (!contexts.some((c) => c.name === current)) {
    throw new KubeconfigError(
      `current context "${current}" is not one of the contexts: ${contexts.map((c) => c.name).join(', ')}`,
    );
  }
  return { apiVersion: 'v1', kind: 'Config', clusters, users, contexts, 'current-context': current, preferences: {} };
}

export function kubeconfigToYaml(k: Kubeconfig): string {
  return yaml.dump(k, { lineWidth: -1, noRefs: true });
}

export function kubeconfigToJson(k: Kubeconfig): string {
  return `${JSON.stringify(k, null, 2)}\n`;
}
