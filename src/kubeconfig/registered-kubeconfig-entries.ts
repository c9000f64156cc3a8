/** The checks of one cluster and one user entry of a registered kubeconfig: server, TLS and inline credentials. */
import { BASE64 } from './kubeconfig.js';
import { privateKeyPemProblem } from './private-key-pem.js';
import type { Entry, Problems } from './registered-kubeconfig-fields.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/;

/** Decodes strict base64 (whitespace allowed), or undefined. */
function decodeBase64(value: string): string | undefined {
  const compact = value.replace(/\s+/g, '');
  if (compact === '' || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
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

/** Checks one cluster's fields; `allowInsecure` as in AdminKubeconfigOptions (registered-kubeconfig.ts). */
export function checkCluster(entry: Entry, options: { allowInsecure?: boolean }, problems: Problems): void {
  const path = `clusters[${entry.index}].cluster`;
  const { fields } = entry;
  const insecure = fields['insecure-skip-tls-verify'];
  if (insecure !== undefined && typeof insecure !== 'boolean')
    problems.add(`${path}.insecure-skip-tls-verify`, 'must be true or false');
  if (insecure === true && !options.allowInsecure) {
    problems.add(
      `${path}.insecure-skip-tls-verify`,
      'is not accepted: the DCM verifies every cluster it reaches (embed its CA as certificate-authority-data; ' +
        'DCM_ALLOW_INSECURE_CLUSTERS=true allows insecure clusters)',
    );
  }
  const server = checkUrl(fields.server, `${path}.server`, ['https:', 'http:'], problems);
  if (server?.protocol === 'http:' && !options.allowInsecure) {
    problems.add(`${path}.server`, 'must be an https URL (DCM_ALLOW_INSECURE_CLUSTERS=true allows http)');
  }
  const ca = fields['certificate-authority-data'];
  if (ca !== undefined) {
    const decoded = typeof ca === 'string' ? decodeBase64(ca) : undefined;
    if (decoded === undefined) problems.add(`${path}.certificate-authority-data`, 'is not base64');
    else if (!PEM_CERTIFICATE.test(decoded))
      problems.add(`${path}.certificate-authority-data`, 'is not base64 of PEM certificates');
  }
  if (fields['tls-server-name'] !== undefined && typeof fields['tls-server-name'] !== 'string')
    problems.add(`${path}.tls-server-name`, 'must be a string');
  if (fields['disable-compression'] !== undefined && typeof fields['disable-compression'] !== 'boolean')
    problems.add(`${path}.disable-compression`, 'must be true or false');
  if (fields['proxy-url'] !== undefined)
    checkUrl(
      fields['proxy-url'],
      `${path}.proxy-url`,
      ['http:', 'https:', 'socks:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:'],
      problems,
    );
}

/** Checks one user's fields; answers whether it carries complete inline credentials. */
export function checkUser(entry: Entry, problems: Problems): boolean {
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
        problems.add(
          `${path}.client-key-data`,
          problem === 'is not base64' ? problem : `is not base64 of a PEM private key: it ${problem}`,
        );
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
