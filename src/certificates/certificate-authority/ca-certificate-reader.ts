/** Reading CA certificates and keys (PEM), and what the API shows of a CA certificate. */
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import {
  BasicConstraints,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import { CertificateError, pemBlocks, toPem } from '../pem.js';
import { extensionOf, issuedBy, parseCertificate, type ParsedCertificate } from '../x509-certificate-reader.js';

export interface LoadedCertificate {
  pem: string;
  parsed: ParsedCertificate;
}

export function readCertificateBundle(pem: string, what: string): LoadedCertificate[] {
  return pemBlocks(pem, ['CERTIFICATE'], what).map((der) => ({
    pem: toPem('CERTIFICATE', der),
    parsed: parseCertificate(der, what),
  }));
}

export function readKey(pem: string, what: string): KeyObject {
  if (typeof pem !== 'string' || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem))
    throw new CertificateError(`${what}: no PEM private key found`);
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new CertificateError(`${what}: not a readable unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1)`);
  }
}

/** basicConstraints of a certificate: whether it is a CA and its path length limit (undefined: none). */
export function basicConstraintsOf(parsed: ParsedCertificate): { ca: boolean; pathLength: number | undefined } {
  const value = extensionOf(parsed, id_ce_basicConstraints, BasicConstraints);
  return { ca: value?.cA ?? false, pathLength: value?.pathLenConstraint };
}

/** Whether keyUsage allows signing certificates (no keyUsage extension: unrestricted). */
export function mayCertSign(parsed: ParsedCertificate): boolean {
  const value = extensionOf(parsed, id_ce_keyUsage, KeyUsage);
  return !value || (value.toNumber() & KeyUsageFlags.keyCertSign) !== 0;
}

/** Whether a certificate (PEM, the first of a bundle) carries a name-constraints extension; false if it cannot be read. */
export function certificateHasNameConstraints(pem: string): boolean {
  try {
    const [certificate] = readCertificateBundle(pem, 'certificate');
    return certificate!.parsed.asn.tbsCertificate.extensions?.some((e) => e.extnID === id_ce_nameConstraints) ?? false;
  } catch {
    return false;
  }
}

/** SHA-256 of the DER, as node:crypto's X509Certificate shows it (AB:CD:…). */
export const fingerprint256 = (c: LoadedCertificate) =>
  createHash('sha256').update(c.parsed.der).digest('hex').toUpperCase().match(/../g)!.join(':');
/** Subject or issuer as OpenSSL prints it (one RDN a line, the way the API has always shown them), joined by ", ". */
export const displayName = (c: LoadedCertificate, which: 'subject' | 'issuer') =>
  new X509Certificate(c.parsed.der)[which].replace(/\n/g, ', ');

export const selfSigned = (c: LoadedCertificate) => issuedBy(c.parsed, c.parsed);
export interface CaCertificateDescription {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  uris: string[];
  sha256Fingerprint: string;
}

/** What the API shows of a CA certificate (never anything of its key). */
export function describeCaCertificate(pem: string): CaCertificateDescription {
  const [certificate] = readCertificateBundle(pem, 'certificate');
  const { parsed } = certificate!;
  const uris = (extensionOf(parsed, id_ce_subjectAltName, SubjectAlternativeName) ?? []).flatMap(
    (n) => n.uniformResourceIdentifier ?? [],
  );
  return {
    subject: displayName(certificate!, 'subject'),
    issuer: displayName(certificate!, 'issuer'),
    serialNumber: parsed.serialNumber,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    uris,
    sha256Fingerprint: fingerprint256(certificate!),
  };
}
