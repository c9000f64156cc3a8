/**
 * The security check of a registered admin kubeconfig.
 *
 * A registered kubeconfig carries data, never instructions: it is loaded into
 * @kubernetes/client-node, which runs `exec` and `auth-provider` plugins, reads `token-file`
 * and every file path (`client-certificate`, `client-key`, `certificate-authority`) from the
 * DCM's own file system and sends what it read to the kubeconfig's server. So every entry (not
 * only the one the current context uses) may hold only the fields of registered-kubeconfig-fields.ts; the user of the
 * current context must carry inline credentials (client-certificate-data + client-key-data,
 * or token). Refusals name the field (`users[0].user.exec`) and never quote a value.
 */
import yaml from 'js-yaml';
import { KubeconfigError } from './kubeconfig.js';
import { checkCluster, checkUser } from './registered-kubeconfig-entries.js';
import {
  INLINE,
  Problems,
  TOP_LEVEL,
  entriesOf,
  fieldName,
  isMapping,
  refusedBecause,
  scanFreeForm,
} from './registered-kubeconfig-fields.js';

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
  if (!isMapping(document))
    throw new KubeconfigError('kubeconfig is not a mapping (expected apiVersion, clusters, contexts, …)');
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
      if (value !== undefined && typeof value !== 'string')
        problems.add(`contexts[${context.index}].context.${field}`, 'must be a string');
    }
  }

  // What the DCM uses: the current context's cluster and user (@kubernetes/client-node takes the first of a name).
  const result = ((): AdminCluster | undefined => {
    if (clusters.length === 0) return void problems.add('clusters', 'is missing or empty: kubeconfig has no clusters');
    const current = document['current-context'];
    if (current === undefined || current === null || current === '')
      return void problems.add('current-context', 'is missing: the DCM connects as the user of the current context');
    if (typeof current !== 'string') return void problems.add('current-context', 'must be a string');
    const context = contexts.find((c) => c.name === current);
    if (!context) return void problems.add('current-context', 'names a context that does not exist');
    const where = `contexts[${context.index}].context`;
    const clusterName = context.fields.cluster;
    if (typeof clusterName !== 'string' || clusterName === '')
      return void problems.add(`${where}.cluster`, 'is missing: the current context names no cluster');
    const cluster = clusters.find((c) => c.name === clusterName);
    if (!cluster) return void problems.add(`${where}.cluster`, 'names a cluster that does not exist');
    const userName = context.fields.user;
    if (typeof userName !== 'string' || userName === '')
      return void problems.add(`${where}.user`, `is missing: ${INLINE}`);
    const user = users.find((u) => u.name === userName);
    if (!user) return void problems.add(`${where}.user`, 'names a user that does not exist');
    if (!complete.get(user) && !problems.list.some((p) => p.startsWith(`users[${user.index}]`))) {
      problems.add(`users[${user.index}].user`, `has no credentials: ${INLINE}`);
    }
    const { fields } = cluster;
    const ca =
      typeof fields['certificate-authority-data'] === 'string'
        ? fields['certificate-authority-data'].replace(/\s+/g, '')
        : undefined;
    return {
      clusterName: cluster.name,
      server: typeof fields.server === 'string' ? fields.server : '',
      ...(ca && { certificateAuthorityData: ca }),
      ...(typeof fields['insecure-skip-tls-verify'] === 'boolean' && {
        insecureSkipTlsVerify: fields['insecure-skip-tls-verify'],
      }),
    };
  })();
  if (problems.count > 0 || !result) throw new KubeconfigError(problems.told().join('; '), problems.told());
  return result;
}
