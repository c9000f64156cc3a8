/** Reading X.509 certificates: parsing, their extensions and keys, and whether one issued another. */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  Certificate,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
  type Name,
  type SubjectPublicKeyInfo,
  id_ce_authorityKeyIdentifier,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { CertificateError } from './pem.js';
import { derOf } from './x509.js';
import { verifySignature } from './x509-signatures.js';

/** Same bytes, or the same attributes once case and spaces are folded (what OpenSSL's name comparison allows). */
function sameName(a: Name, b: Name): boolean {
  if (derOf(a).equals(derOf(b))) return true;
  const fold = (name: Name) =>
    JSON.stringify(
      name.map((rdn) => rdn.map((x) => [x.type, x.value.toString().trim().replace(/\s+/g, ' ').toLowerCase()]).sort()),
    );
  return fold(a) === fold(b);
}

export interface ParsedCertificate {
  der: Buffer;
  asn: Certificate;
  /** TBSCertificate exactly as signed. */
  tbs: Buffer;
  /** Lowercase hex, without a sign-padding zero byte. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

export function parseCertificate(der: Buffer, what: string): ParsedCertificate {
  let asn: Certificate;
  try {
    asn = AsnConvert.parse(der, Certificate);
  } catch {
    throw new CertificateError(`${what}: not a valid X.509 certificate`);
  }
  const { serialNumber, validity } = asn.tbsCertificate;
  return {
    der,
    asn,
    tbs: Buffer.from(asn.tbsCertificateRaw ?? AsnConvert.serialize(asn.tbsCertificate)),
    serialNumber: Buffer.from(serialNumber)
      .toString('hex')
      .replace(/^(00)+(?=..)/, ''),
    notBefore: validity.notBefore.getTime(),
    notAfter: validity.notAfter.getTime(),
  };
}

/** The value of a certificate's extension, read as `type`; undefined when it has none. */
export function extensionOf<T>(certificate: ParsedCertificate, oid: string, type: new () => T): T | undefined {
  const found = certificate.asn.tbsCertificate.extensions?.find((e) => e.extnID === oid);
  if (!found) return undefined;
  try {
    return AsnConvert.parse(found.extnValue.buffer, type);
  } catch {
    throw new CertificateError(`certificate extension ${oid}: unreadable`);
  }
}

export function publicKeyOf(certificate: ParsedCertificate): KeyObject {
  try {
    return createPublicKey({
      key: derOf(certificate.asn.tbsCertificate.subjectPublicKeyInfo),
      format: 'der',
      type: 'spki',
    });
  } catch {
    throw new CertificateError('certificate: public key is unreadable');
  }
}

/** Whether `key` (private, or its public key) is the key of the certificate. */
export function holdsKey(certificate: ParsedCertificate, key: KeyObject): boolean {
  try {
    const [mine, its] = [key.type === 'public' ? key : createPublicKey(key), publicKeyOf(certificate)];
    // KeyObject.equals of keys of different types or curves leaves an OpenSSL error queued, which
    // the next node:crypto call then throws: compare those first.
    const kind = (k: KeyObject) => `${k.asymmetricKeyType ?? ''}:${k.asymmetricKeyDetails?.namedCurve ?? ''}`;
    return kind(mine) === kind(its) && mine.equals(its);
  } catch {
    return false; // a public key node:crypto cannot read is not this key's
  }
}

/** The key identifier of a SubjectKeyIdentifier extension, if the certificate has one. */
export function subjectKeyIdentifier(certificate: ParsedCertificate): Buffer | undefined {
  const value = extensionOf(certificate, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier);
  return value && value.byteLength > 0 ? Buffer.from(value.buffer) : undefined;
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
export const keyIdentifier = (spki: SubjectPublicKeyInfo): Buffer =>
  createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();

/**
 * Whether `child` was issued by `parent`: the issuer name is the parent's subject, the key
 * identifiers agree, the parent may sign certificates and the signature verifies with its key
 * (what OpenSSL's X509_check_issued and X509_verify check). Validity dates are not checked.
 */
export function issuedBy(child: ParsedCertificate, parent: ParsedCertificate): boolean {
  if (!sameName(child.asn.tbsCertificate.issuer, parent.asn.tbsCertificate.subject)) return false;
  const authorityKeyId = extensionOf(child, id_ce_authorityKeyIdentifier, AuthorityKeyIdentifier)?.keyIdentifier;
  const parentKeyId = subjectKeyIdentifier(parent);
  if (authorityKeyId && parentKeyId && !Buffer.from(authorityKeyId.buffer).equals(parentKeyId)) return false;
  const usage = extensionOf(parent, id_ce_keyUsage, KeyUsage);
  if (usage && (usage.toNumber() & KeyUsageFlags.keyCertSign) === 0) return false;
  try {
    return verifySignature(
      child.asn.signatureAlgorithm.algorithm,
      child.tbs,
      publicKeyOf(parent),
      Buffer.from(child.asn.signatureValue),
      'certificate',
      true,
    );
  } catch {
    return false; // an algorithm the DCM does not check, or an unreadable key
  }
}
