/**
 * The signer of the DCM's certificate authority for service meshes: a self-signed root (generated
 * once by the DCM) or an operator-supplied CA with its chain. Keys are generated with node:crypto.
 */
import { createPrivateKey } from 'node:crypto';
import { generatePrivateKey } from '../certificates.js';
import { CertificateError, toPem } from '../pem.js';
import { subjectPublicKeyInfoOf } from '../x509-certificate-builder.js';
import { holdsKey, issuedBy, keyIdentifier } from '../x509-certificate-reader.js';
import { signerFor } from '../x509-signatures.js';
import { buildCaCertificate, caName, type CaKeyPair, type CaSubject } from './ca-certificate-builder.js';
import {
  basicConstraintsOf,
  displayName,
  fingerprint256,
  mayCertSign,
  readCertificateBundle,
  readKey,
  selfSigned,
} from './ca-certificate-reader.js';

/** What signs intermediates: the CA certificate and key, and the chain above it up to the root. */
export interface CaSigner extends CaKeyPair {
  /** The certificates above the signer, nearest first, ending with the self-signed root; empty when the signer is the root. */
  chainPem: string[];
  /** The self-signed root at the top (the signer itself when it is the root). */
  rootPem: string;
}

/**
 * A new self-signed root CA (RSA, SHA-256) for `validitySeconds`, back-dated an hour so that
 * replicas (and clusters) whose clocks lag a little accept it at once; pathlen 1: root →
 * intermediates → workloads.
 */
export async function createRootCa(opts: {
  subject: CaSubject;
  validitySeconds: number;
  keyBits?: 2048 | 3072 | 4096;
}): Promise<CaKeyPair> {
  if (!Number.isSafeInteger(opts.validitySeconds) || opts.validitySeconds < 3600)
    throw new CertificateError('root validity must be at least 3600 seconds');
  const keyPem = await generatePrivateKey(opts.keyBits ?? 3072);
  const key = createPrivateKey(keyPem);
  const name = caName(opts.subject);
  const now = Math.floor(Date.now() / 1000) * 1000;
  const der = buildCaCertificate({
    issuerName: name,
    subjectName: name,
    subjectKey: key,
    issuerKey: key,
    authorityKeyId: keyIdentifier(subjectPublicKeyInfoOf(key)),
    pathLength: 1,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + opts.validitySeconds * 1000),
  });
  return { certificatePem: toPem('CERTIFICATE', der), keyPem };
}

/**
 * Checks and assembles a signer: the CA certificate with its key, and the chain above it.
 * `names` label the inputs in messages (e.g. the configuration variables they came from).
 */
export function loadCaSigner(
  input: { certificatePem: string; keyPem: string; chainPem?: string | undefined },
  names: { certificate: string; key: string; chain: string } = {
    certificate: 'CA certificate',
    key: 'CA private key',
    chain: 'CA chain',
  },
  now = new Date(),
): CaSigner {
  const [certificate, ...extra] = readCertificateBundle(input.certificatePem, names.certificate);
  if (!certificate) throw new CertificateError(`${names.certificate}: no certificate`);
  const key = readKey(input.keyPem, names.key);
  if (!holdsKey(certificate.parsed, key))
    throw new CertificateError(`${names.key} does not match ${names.certificate}`);
  signerFor(key); // refuses unsupported key types now rather than at the first issue
  const { ca, pathLength } = basicConstraintsOf(certificate.parsed);
  if (!ca)
    throw new CertificateError(`${names.certificate}: not a CA certificate (basicConstraints CA:TRUE is missing)`);
  if (pathLength === 0) {
    throw new CertificateError(
      `${names.certificate}: its path length constraint is 0, so it cannot issue the intermediate CAs istiod needs (pathlen 1 or more, or none)`,
    );
  }
  if (!mayCertSign(certificate.parsed))
    throw new CertificateError(`${names.certificate}: its key usage does not allow signing certificates (keyCertSign)`);
  // A few minutes of clock skew between whoever issued it and this replica are tolerated.
  if (certificate.parsed.notAfter <= now || certificate.parsed.notBefore.getTime() > now.getTime() + 300_000) {
    throw new CertificateError(
      `${names.certificate}: not valid now (valid ${certificate.parsed.notBefore.toISOString()} to ${certificate.parsed.notAfter.toISOString()})`,
    );
  }
  // The chain: from the file, or certificates that followed the signer in its own file.
  let chain = [...extra, ...(input.chainPem?.trim() ? readCertificateBundle(input.chainPem, names.chain) : [])];
  if (chain[0] && fingerprint256(chain[0]) === fingerprint256(certificate)) chain = chain.slice(1);
  const path = [certificate, ...chain];
  for (let i = 0; i + 1 < path.length; i++) {
    if (!issuedBy(path[i]!.parsed, path[i + 1]!.parsed)) {
      throw new CertificateError(
        `${names.chain}: certificate ${i + 1} of the path (${displayName(path[i]!, 'subject')}) is not issued by the next one`,
      );
    }
    if (!basicConstraintsOf(path[i + 1]!.parsed).ca)
      throw new CertificateError(`${names.chain}: certificate ${i + 2} of the path is not a CA`);
  }
  const top = path[path.length - 1]!;
  if (!selfSigned(top)) {
    throw new CertificateError(
      path.length === 1
        ? `${names.certificate} is not self-signed: give its chain up to the root in ${names.chain}`
        : `${names.chain}: does not end with a self-signed root certificate`,
    );
  }
  return { certificatePem: certificate.pem, keyPem: input.keyPem, chainPem: chain.map((c) => c.pem), rootPem: top.pem };
}
