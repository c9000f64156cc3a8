/**
 * The per-cluster intermediate CAs the DCM's certificate authority issues for Istio's plug-in CA
 * (the `cacerts` Secret istiod reads). An intermediate is a CA for exactly one level below it
 * (pathlen 0), may only sign and revoke (keyUsage keyCertSign + cRLSign, critical), names its
 * logical cloud and cluster in its subject and a SPIFFE URI SAN, and carries a critical name
 * constraint that permits URI names only in its logical cloud's trust domain: a validator that
 * honours name constraints (Go, OpenSSL, BoringSSL) refuses a workload identity of another logical
 * cloud minted with it. Failures throw CertificateError, whose messages never include key material.
 */
import { createPrivateKey } from 'node:crypto';
import { generatePrivateKey } from '../certificates.js';
import { CertificateError, toPem } from '../pem.js';
import {
  holdsKey,
  issuedBy,
  keyIdentifier,
  parseCertificate,
  subjectKeyIdentifier,
} from '../x509-certificate-reader.js';
import { buildCaCertificate, caName, type CaKeyPair, type CaSubject } from './ca-certificate-builder.js';
import { readCertificateBundle, readKey } from './ca-certificate-reader.js';
import type { CaSigner } from './root-ca.js';

export interface IssuedIntermediate extends CaKeyPair {
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

/** The four files of Istio's plug-in CA Secret `cacerts`. */
export interface CacertsFiles {
  'ca-cert.pem': string;
  'ca-key.pem': string;
  'root-cert.pem': string;
  'cert-chain.pem': string;
}

/**
 * Issues an intermediate CA under the signer, with a new RSA key: CA:TRUE pathlen 0 (critical),
 * keyCertSign + cRLSign (critical), the URI SAN `uri`, and — when `trustDomain` is given — a
 * critical name constraint permitting URI names only in that trust domain. Valid from a minute
 * ago for `validitySeconds`, never beyond the signer's own notAfter.
 */
export async function issueIntermediateCa(
  signer: CaSigner,
  opts: {
    subject: CaSubject;
    uri: string;
    trustDomain?: string;
    validitySeconds: number;
    keyBits?: 2048 | 3072 | 4096;
  },
): Promise<IssuedIntermediate> {
  if (!Number.isSafeInteger(opts.validitySeconds) || opts.validitySeconds < 600)
    throw new CertificateError('intermediate validity must be at least 600 seconds');
  if (!/^[\x21-\x7e]+$/.test(opts.uri))
    throw new CertificateError('intermediate URI SAN must be printable ASCII (percent-encode the rest)');
  if (opts.trustDomain !== undefined && !/^[a-z0-9._-]+$/.test(opts.trustDomain)) {
    throw new CertificateError('trust domain must be lower-case letters, digits, ".", "_" and "-"');
  }
  const [issuer] = readCertificateBundle(signer.certificatePem, 'CA certificate');
  const issuerKey = readKey(signer.keyPem, 'CA private key');
  const now = Math.floor(Date.now() / 1000) * 1000;
  const notAfter = Math.min(now + opts.validitySeconds * 1000, issuer!.parsed.notAfter.getTime());
  if (notAfter <= now + 600_000)
    throw new CertificateError('the CA certificate expires within 10 minutes: renew it before issuing intermediates');
  const keyPem = await generatePrivateKey(opts.keyBits ?? 2048);
  const der = buildCaCertificate({
    issuerName: issuer!.parsed.asn.tbsCertificate.subject,
    subjectName: caName(opts.subject),
    subjectKey: createPrivateKey(keyPem),
    issuerKey,
    authorityKeyId:
      subjectKeyIdentifier(issuer!.parsed) ?? keyIdentifier(issuer!.parsed.asn.tbsCertificate.subjectPublicKeyInfo),
    pathLength: 0,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(notAfter),
    uris: [opts.uri],
    ...(opts.trustDomain !== undefined ? { permittedUriHosts: [opts.trustDomain] } : {}),
  });
  const parsed = parseCertificate(der, 'intermediate certificate');
  return {
    certificatePem: toPem('CERTIFICATE', der),
    keyPem,
    serialNumber: parsed.serialNumber,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
  };
}

/**
 * Whether a stored intermediate may be delivered again: its key matches, it was issued by the
 * current signer, and it is not in the last fifth of its life.
 */
export function intermediateStillGood(intermediate: CaKeyPair, signer: CaSigner, now = Date.now()): boolean {
  try {
    const [certificate] = readCertificateBundle(intermediate.certificatePem, 'intermediate certificate');
    const [issuer] = readCertificateBundle(signer.certificatePem, 'CA certificate');
    const { notBefore, notAfter } = certificate!.parsed;
    const renewAt = notAfter.getTime() - (notAfter.getTime() - notBefore.getTime()) / 5;
    return (
      holdsKey(certificate!.parsed, readKey(intermediate.keyPem, 'intermediate key')) &&
      issuedBy(certificate!.parsed, issuer!.parsed) &&
      now < renewAt
    );
  } catch {
    return false;
  }
}

/** The chain of an intermediate up to the root, intermediate first (Istio's cert-chain.pem). */
export const certificateChain = (intermediatePem: string, signer: CaSigner): string =>
  [intermediatePem, signer.certificatePem, ...signer.chainPem].join('');

/** The files of Istio's `cacerts` Secret for an intermediate. */
export function cacertsFiles(intermediate: CaKeyPair, signer: CaSigner): CacertsFiles {
  return {
    'ca-cert.pem': intermediate.certificatePem,
    'ca-key.pem': intermediate.keyPem,
    'root-cert.pem': signer.rootPem,
    'cert-chain.pem': certificateChain(intermediate.certificatePem, signer),
  };
}
