/**
 * Tenant client certificates: private keys (node:crypto), PKCS#10 requests and local signing by
 * a cluster CA, written with @peculiar/asn1-x509 / asn1-csr (x509.ts) and signed by node:crypto.
 * Issued certificates copy the request's subject and public key as read; the issuer is the CA
 * certificate's subject as read, which is what Go (the Kubernetes apiserver) needs to chain them.
 * Any failure throws CertificateError, whose messages never include key material.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_kp_clientAuth,
} from '@peculiar/asn1-x509';
import { CertificateError, pemBlocks, toPem } from './pem.js';
import { OID, derOf, nameAttributes, nameOf } from './x509.js';
import { buildCertificate, extension, subjectPublicKeyInfoOf } from './x509-certificate-builder.js';
import {
  holdsKey,
  issuedBy,
  parseCertificate,
  subjectKeyIdentifier,
  type ParsedCertificate,
} from './x509-certificate-reader.js';
import { parseCsr } from './x509-csr.js';
import { signerFor, verifySignature } from './x509-signatures.js';

export { CertificateError } from './pem.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const CERTIFICATE = ['CERTIFICATE'];
const CSR = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

/** A new RSA private key as PKCS#1 PEM ("RSA PRIVATE KEY"). */
export async function generatePrivateKey(bits: 2048 | 3072 | 4096 = 2048): Promise<string> {
  if (![2048, 3072, 4096].includes(bits))
    throw new CertificateError(`RSA key size must be 2048, 3072 or 4096 bits, not ${String(bits)}`);
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return privateKey;
}

function readPrivateKey(pem: string, what: string): KeyObject {
  if (typeof pem !== 'string' || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new CertificateError(`${what}: no PEM private key found`);
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new CertificateError(`${what}: not a readable unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1)`);
  }
}

const readCertificates = (pem: string, what: string): ParsedCertificate[] =>
  pemBlocks(pem, CERTIFICATE, what).map((der) => parseCertificate(der, what));

/** A PKCS#10 request (PEM) for an RSA key (PKCS#1 or PKCS#8 PEM), subject CN then each O, signed SHA-256, no attributes. */
export function createCsr(opts: {
  privateKeyPem: string;
  commonName: string;
  organization?: string | readonly string[];
}): string {
  if (typeof opts.commonName !== 'string' || opts.commonName.trim() === '')
    throw new CertificateError('CSR common name must not be empty');
  const organizations =
    opts.organization === undefined
      ? []
      : typeof opts.organization === 'string'
        ? [opts.organization]
        : [...opts.organization];
  if (organizations.some((o) => typeof o !== 'string' || o.trim() === ''))
    throw new CertificateError('CSR organization must not be empty');
  const key = readPrivateKey(opts.privateKeyPem, 'CSR private key');
  if (key.asymmetricKeyType !== 'rsa')
    throw new CertificateError(`CSR private key: must be RSA, not ${key.asymmetricKeyType ?? 'unknown'}`);
  const signer = signerFor(key);
  const certificationRequestInfo = new CertificationRequestInfo({
    version: 0,
    subject: nameOf([
      { oid: OID.commonName, value: opts.commonName },
      ...organizations.map((value) => ({ oid: OID.organization, value })),
    ]),
    subjectPKInfo: subjectPublicKeyInfoOf(key),
    attributes: new Attributes(),
  });
  const signature = signer.sign(derOf(certificationRequestInfo));
  const request = new CertificationRequest({
    certificationRequestInfo,
    signatureAlgorithm: signer.algorithm,
    signature: Uint8Array.from(signature).buffer,
  });
  return toPem('CERTIFICATE REQUEST', derOf(request));
}

/**
 * Issues a client certificate for a PKCS#10 request, signed SHA-256 by a CA whose key is RSA,
 * EC or Ed25519 (PKCS#1, PKCS#8 or SEC1 PEM). `caCertPem` may be a bundle: the certificate
 * matching the key is used. Only the request's subject and public key are taken; requested
 * extensions are ignored.
 */
export function signCsrLocally(opts: {
  csrPem: string;
  caCertPem: string;
  caKeyPem: string;
  validitySeconds: number;
  usages: 'client';
}): string {
  if (opts.usages !== 'client') throw new CertificateError(`unsupported certificate usages: ${String(opts.usages)}`);
  if (!Number.isSafeInteger(opts.validitySeconds) || opts.validitySeconds < 1) {
    throw new CertificateError('validitySeconds must be a positive whole number of seconds');
  }
  const csrDers = pemBlocks(opts.csrPem, CSR, 'CSR');
  if (csrDers.length !== 1) throw new CertificateError('CSR: expected exactly one certificate request');
  const csr = parseCsr(csrDers[0]!, 'CSR');
  let subjectKey: KeyObject;
  try {
    subjectKey = createPublicKey({ key: derOf(csr.subjectPublicKeyInfo), format: 'der', type: 'spki' });
  } catch {
    throw new CertificateError('CSR: public key is unreadable');
  }
  if (!verifySignature(csr.signatureAlgorithm, csr.info, subjectKey, csr.signature, 'CSR')) {
    throw new CertificateError('CSR: signature does not verify (request altered or not signed by its key)');
  }
  const bits = subjectKey.asymmetricKeyDetails?.modulusLength;
  if (subjectKey.asymmetricKeyType === 'rsa' && bits !== undefined && bits < 2048) {
    throw new CertificateError(`CSR: RSA key of ${bits} bits is too weak (2048 at least)`);
  }
  if (!nameAttributes(csr.subject).some((a) => a.oid === OID.commonName && a.value !== '')) {
    throw new CertificateError('CSR: subject has no common name');
  }

  const caKey = readPrivateKey(opts.caKeyPem, 'CA private key');
  const ca = readCertificates(opts.caCertPem, 'CA certificate').find((c) => holdsKey(c, caKey));
  if (!ca) throw new CertificateError('CA private key does not match the CA certificate');
  signerFor(caKey); // an unsupported CA key type is refused before anything is built

  // digitalSignature, plus keyEncipherment where the key can do it (RSA).
  const usage =
    KeyUsageFlags.digitalSignature | (subjectKey.asymmetricKeyType === 'rsa' ? KeyUsageFlags.keyEncipherment : 0);
  const extensions = [
    extension(id_ce_basicConstraints, true, new BasicConstraints()),
    extension(id_ce_keyUsage, true, new KeyUsage(usage)),
    extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_clientAuth])),
  ];
  const caKeyId = subjectKeyIdentifier(ca);
  if (caKeyId)
    extensions.push(
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(caKeyId) }),
      ),
    );
  const now = Math.floor(Date.now() / 1000) * 1000;
  const der = buildCertificate({
    issuer: ca.asn.tbsCertificate.subject,
    subject: csr.subject,
    subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + opts.validitySeconds * 1000),
    extensions,
    signingKey: caKey,
  });
  return toPem('CERTIFICATE', der);
}

export interface CertificateDescription {
  subject: { commonName?: string; organization?: string[] };
  issuerCommonName?: string;
  notBefore: Date;
  notAfter: Date;
  /** Lowercase hex, without a sign-padding zero byte. */
  serialNumber: string;
}

/** Subject, issuer CN, validity and serial of a PEM certificate (the first one of a bundle). */
export function describeCertificate(pem: string): CertificateDescription {
  const certificate = readCertificates(pem, 'certificate')[0]!;
  const subject = nameAttributes(certificate.asn.tbsCertificate.subject);
  const commonName = subject.find((a) => a.oid === OID.commonName)?.value;
  const organization = subject.filter((a) => a.oid === OID.organization).map((a) => a.value);
  const issuerCommonName = nameAttributes(certificate.asn.tbsCertificate.issuer).find(
    (a) => a.oid === OID.commonName,
  )?.value;
  return {
    subject: {
      ...(commonName !== undefined && { commonName }),
      ...(organization.length > 0 && { organization }),
    },
    ...(issuerCommonName !== undefined && { issuerCommonName }),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    serialNumber: certificate.serialNumber,
  };
}

/** Whether the certificate (first of a bundle) carries the public key of `key` (a private key in PEM, or a key object, private or public). */
export function certificateMatchesKey(certPem: string, key: string | KeyObject): boolean {
  const [certificate] = readCertificates(certPem, 'certificate');
  return holdsKey(certificate!, typeof key === 'string' ? readPrivateKey(key, 'private key') : key);
}

/** The public key of a private key in PEM (to compare certificates with, without reading the private key each time). */
export function publicKeyOfPrivate(privateKeyPem: string): KeyObject {
  return createPublicKey(readPrivateKey(privateKeyPem, 'private key'));
}

/**
 * Whether the certificate (first of a bundle) was issued by the CA certificate, or by one of a
 * CA bundle: issuer name and key identifiers match and the signature verifies. Validity dates
 * are not checked.
 */
export function verifyIssuedBy(certPem: string, caCertPem: string): boolean {
  const [certificate] = readCertificates(certPem, 'certificate');
  return readCertificates(caCertPem, 'CA certificate').some((ca) => issuedBy(certificate!, ca));
}
