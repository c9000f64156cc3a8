/**
 * Certificates of one test cluster: its CA, the apiserver's serving certificate, client
 * certificates for the admin and the controller-manager, and the service-account key pair.
 * Keys come from node:crypto (native, fast); certificates are built with node-forge.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  controllerManagerCert: string;
  controllerManagerKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

interface KeyPair {
  privatePem: string;
  publicPem: string;
}

function newKey(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serial(): string {
  // Positive, 16 bytes: leading nibble kept below 8.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

interface CertOptions {
  subject: forge.pki.CertificateField[];
  key: KeyPair;
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  ca?: boolean;
  extKeyUsage?: { serverAuth?: boolean; clientAuth?: boolean };
  altNames?: { type: number; value?: string; ip?: string }[];
  days?: number;
}

function issue(opts: CertOptions): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.key.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + (opts.days ?? 365) * 86_400_000);
  cert.setSubject(opts.subject);
  cert.setIssuer(opts.issuer ? opts.issuer.cert.subject.attributes : opts.subject);
  const extensions: object[] = [];
  if (opts.ca) {
    extensions.push({ name: 'basicConstraints', cA: true, critical: true });
    extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true });
  } else {
    extensions.push({ name: 'basicConstraints', cA: false });
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    extensions.push({ name: 'extKeyUsage', ...opts.extKeyUsage });
  }
  if (opts.altNames) extensions.push({ name: 'subjectAltName', altNames: opts.altNames });
  extensions.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(extensions);
  const signingKey = opts.issuer?.key ?? (forge.pki.privateKeyFromPem(opts.key.privatePem) as forge.pki.rsa.PrivateKey);
  cert.sign(signingKey, forge.md.sha256.create());
  return cert;
}

function write(dir: string, name: string, content: string, mode = 0o644): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content, { mode });
  return file;
}

/** Creates the cluster's PKI in `dir`, or returns the existing one. */
export function ensureClusterPki(dir: string, clusterName: string): ClusterPki {
  const files: ClusterPki = {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    servingCert: path.join(dir, 'apiserver.crt'),
    servingKey: path.join(dir, 'apiserver.key'),
    adminCert: path.join(dir, 'admin.crt'),
    adminKey: path.join(dir, 'admin.key'),
    controllerManagerCert: path.join(dir, 'controller-manager.crt'),
    controllerManagerKey: path.join(dir, 'controller-manager.key'),
    serviceAccountKey: path.join(dir, 'sa.key'),
    serviceAccountPub: path.join(dir, 'sa.pub'),
  };
  if (Object.values(files).every((file) => fs.existsSync(file))) return files;
  fs.mkdirSync(dir, { recursive: true });

  const caKey = newKey();
  const ca = issue({
    subject: [{ name: 'commonName', value: `${clusterName}-ca` }],
    key: caKey,
    ca: true,
    days: 3650,
  });
  const issuer = { cert: ca, key: forge.pki.privateKeyFromPem(caKey.privatePem) as forge.pki.rsa.PrivateKey };

  const servingKey = newKey();
  const serving = issue({
    subject: [{ name: 'commonName', value: 'kube-apiserver' }],
    key: servingKey,
    issuer,
    extKeyUsage: { serverAuth: true },
    altNames: [
      { type: 2, value: 'localhost' },
      { type: 2, value: 'kubernetes' },
      { type: 2, value: 'kubernetes.default' },
      { type: 2, value: 'kubernetes.default.svc' },
      { type: 7, ip: '127.0.0.1' },
      { type: 7, ip: '10.96.0.1' },
    ],
  });

  const client = (commonName: string, organization?: string) => {
    const key = newKey();
    const subject: forge.pki.CertificateField[] = [{ name: 'commonName', value: commonName }];
    if (organization) subject.push({ name: 'organizationName', value: organization });
    return { key, cert: issue({ subject, key, issuer, extKeyUsage: { clientAuth: true } }) };
  };
  const admin = client('dcm-test-admin', 'system:masters');
  // In system:masters: the controllers here run on the controller-manager's own credentials
  // (no per-controller service accounts), and must be allowed all that they do.
  const controllerManager = client('system:kube-controller-manager', 'system:masters');
  const serviceAccount = newKey();

  const pem = forge.pki.certificateToPem;
  write(dir, 'ca.key', caKey.privatePem, 0o600);
  write(dir, 'apiserver.crt', pem(serving));
  write(dir, 'apiserver.key', servingKey.privatePem, 0o600);
  write(dir, 'admin.crt', pem(admin.cert));
  write(dir, 'admin.key', admin.key.privatePem, 0o600);
  write(dir, 'controller-manager.crt', pem(controllerManager.cert));
  write(dir, 'controller-manager.key', controllerManager.key.privatePem, 0o600);
  write(dir, 'sa.key', serviceAccount.privatePem, 0o600);
  write(dir, 'sa.pub', serviceAccount.publicPem);
  // The CA certificate last: its presence marks a complete set.
  write(dir, 'ca.crt', pem(ca));
  return files;
}

export function kubeconfigYaml(opts: {
  clusterName: string;
  server: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  user: string;
}): string {
  const b64 = (file: string) => fs.readFileSync(file).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${opts.clusterName}`,
    '  cluster:',
    `    server: ${opts.server}`,
    `    certificate-authority-data: ${b64(opts.caFile)}`,
    'users:',
    `- name: ${opts.user}`,
    '  user:',
    `    client-certificate-data: ${b64(opts.certFile)}`,
    `    client-key-data: ${b64(opts.keyFile)}`,
    'contexts:',
    `- name: ${opts.user}@${opts.clusterName}`,
    '  context:',
    `    cluster: ${opts.clusterName}`,
    `    user: ${opts.user}`,
    `current-context: ${opts.user}@${opts.clusterName}`,
    '',
  ].join('\n');
}
