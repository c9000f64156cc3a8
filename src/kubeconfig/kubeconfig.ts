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
import yaml from 'js-yaml';
import { z } from 'zod';

export class KubeconfigError extends Error {
  constructor(message: string) {
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
  clientCertificatePem: string;
  clientKeyPem: string;
  namespace: string;
  contextName?: string;
}

export interface KubeconfigCluster {
  name: string;
  cluster: { server: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean };
}
export interface KubeconfigUser {
  name: string;
  user: { 'client-certificate-data': string; 'client-key-data': string };
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
    const cert = requireText(entry.clientCertificatePem, `${where}: clientCertificatePem`);
    const key = requireText(entry.clientKeyPem, `${where}: clientKeyPem`);
    if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new KubeconfigError(`${where}: clientCertificatePem is not a PEM certificate`);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new KubeconfigError(`${where}: clientKeyPem is not a PEM private key`);
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
    addOnce(users, { name: user, user: { 'client-certificate-data': base64(cert), 'client-key-data': base64(key) } }, 'user');
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

const AdminKubeconfigSchema = z.object({
  clusters: z
    .array(
      z.object({
        name: z.string().min(1),
        cluster: z.object({
          server: z.string().optional(),
          'certificate-authority-data': z.string().optional(),
          'certificate-authority': z.string().optional(),
          'insecure-skip-tls-verify': z.boolean().optional(),
        }),
      }),
    )
    .nullish(),
  contexts: z
    .array(z.object({ name: z.string().min(1), context: z.object({ cluster: z.string().optional() }).nullish() }))
    .nullish(),
  'current-context': z.string().nullish(),
});

export interface AdminCluster {
  clusterName: string;
  server: string;
  /** Base64 of the CA bundle PEM, as in the kubeconfig. */
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${String(p)}` : String(p)), '') || '(top level)';
}

/**
 * The cluster of an admin kubeconfig (YAML or JSON) that its current context points to, or its
 * only cluster when there is no current context. The CA must be embedded
 * (certificate-authority-data): file references are refused.
 */
export function parseAdminKubeconfig(text: string): AdminCluster {
  let document: unknown;
  try {
    document = yaml.load(text, { schema: yaml.CORE_SCHEMA }); // JSON is YAML too
  } catch (error) {
    throw new KubeconfigError(`kubeconfig is neither YAML nor JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new KubeconfigError('kubeconfig is not a mapping (expected apiVersion, clusters, contexts, …)');
  }
  const parsed = AdminKubeconfigSchema.safeParse(document);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`);
    throw new KubeconfigError(`kubeconfig is malformed: ${issues.join('; ')}`);
  }
  const config = parsed.data;
  const clusters = config.clusters ?? [];
  if (clusters.length === 0) throw new KubeconfigError('kubeconfig has no clusters');

  let clusterName: string;
  const currentContext = config['current-context'];
  if (currentContext) {
    const context = (config.contexts ?? []).find((c) => c.name === currentContext);
    if (!context) throw new KubeconfigError(`current-context "${currentContext}" names a context that does not exist`);
    if (!context.context?.cluster) throw new KubeconfigError(`context "${currentContext}" names no cluster`);
    clusterName = context.context.cluster;
  } else if (clusters.length === 1) {
    clusterName = clusters[0]!.name;
  } else {
    throw new KubeconfigError(`kubeconfig has ${clusters.length} clusters and no current-context to choose one`);
  }

  const named = clusters.find((c) => c.name === clusterName);
  if (!named) throw new KubeconfigError(`cluster "${clusterName}" (of the current context) does not exist`);
  const { cluster } = named;
  if (!cluster.server) throw new KubeconfigError(`cluster "${clusterName}" has no server`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new KubeconfigError(`cluster "${clusterName}" server "${cluster.server}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeconfigError(`cluster "${clusterName}" server "${cluster.server}" is not an http(s) URL`);
  }
  const ca = cluster['certificate-authority-data']?.replace(/\s+/g, '');
  if (ca !== undefined && !BASE64.test(ca)) throw new KubeconfigError(`cluster "${clusterName}" certificate-authority-data is not base64`);
  if (!ca && cluster['certificate-authority']) {
    throw new KubeconfigError(`cluster "${clusterName}" refers to a CA file; embed it as certificate-authority-data`);
  }
  return {
    clusterName,
    server: cluster.server,
    ...(ca && { certificateAuthorityData: ca }),
    ...(cluster['insecure-skip-tls-verify'] !== undefined && { insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] }),
  };
}
