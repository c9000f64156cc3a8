/**
 * X.509 certificates (RFC 5280) and PKCS#10 requests (RFC 2986), read and written by
 * @peculiar/asn1-x509 and @peculiar/asn1-csr: the ASN.1 schemas @peculiar/x509 is built on,
 * used directly because the DCM issues synchronously (@peculiar/x509's generators sign through
 * WebCrypto, asynchronously). Keys, digests and signatures are node:crypto's, so a CA key may be
 * RSA, EC or Ed25519. Names and public keys read from a certificate or request are written back
 * as read: Go (the Kubernetes apiserver) matches an issuer to its CA by the raw name bytes.
 */
import { createHash, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  Certificate,
  Extension,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { CertificateError } from './pem.js';

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
} as const;

/** Signature algorithms whose signatures the DCM checks: OID → digest for node:crypto (null: EdDSA). */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519
};
/** Older algorithms accepted on certificates issued by others (an operator's chain), never on requests. */
const LEGACY_CERTIFICATE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha1', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224',
  '1.3.101.113': null, // Ed448
};

const toArrayBuffer = (bytes: Buffer): ArrayBuffer => Uint8Array.from(bytes).buffer;
/** DER of any ASN.1 value of the schemas. */
export const derOf = (value: object): Buffer => Buffer.from(AsnConvert.serialize(value));

// ---- names -------------------------------------------------------------------------------------

/** A Name of one attribute per RDN, in order; PrintableString where the value allows it (as Go writes names), else UTF8String. */
export function nameOf(attributes: readonly { oid: string; value: string }[]): Name {
  return new Name(
    attributes.map(({ oid, value }) => {
      const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
      const text = new AttributeValue(printable ? { printableString: value } : { utf8String: value });
      return new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value: text })]);
    }),
  );
}

/** Attributes of a Name, flattened in order. */
export function nameAttributes(name: Name): { oid: string; value: string }[] {
  return name.flatMap((rdn) => rdn.map((attribute) => ({ oid: attribute.type, value: attribute.value.toString() })));
}

/** Same bytes, or the same attributes once case and spaces are folded (what OpenSSL's name comparison allows). */
function sameName(a: Name, b: Name): boolean {
  if (derOf(a).equals(derOf(b))) return true;
  const fold = (name: Name) => JSON.stringify(name.map((rdn) => rdn.map((x) => [x.type, x.value.toString().trim().replace(/\s+/g, ' ').toLowerCase()]).sort()));
  return fold(a) === fold(b);
}

// ---- certificates ------------------------------------------------------------------------------

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
    serialNumber: Buffer.from(serialNumber).toString('hex').replace(/^(00)+(?=..)/, ''),
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
    return createPublicKey({ key: derOf(certificate.asn.tbsCertificate.subjectPublicKeyInfo), format: 'der', type: 'spki' });
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
export const keyIdentifier = (spki: SubjectPublicKeyInfo): Buffer => createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();

export function verifySignature(algorithmOid: string, data: Buffer, key: KeyObject, signature: Buffer, what: string, legacy = false): boolean {
  const digests = legacy ? { ...LEGACY_CERTIFICATE_DIGESTS, ...SIGNATURE_DIGESTS } : SIGNATURE_DIGESTS;
  const digest = digests[algorithmOid];
  if (digest === undefined) throw new CertificateError(`${what}: signature algorithm ${algorithmOid} is not supported`);
  try {
    return verify(digest, data, key, signature);
  } catch {
    return false; // algorithm does not fit the key, or the signature is unreadable
  }
}

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
    return verifySignature(child.asn.signatureAlgorithm.algorithm, child.tbs, publicKeyOf(parent), Buffer.from(child.asn.signatureValue), 'certificate', true);
  } catch {
    return false; // an algorithm the DCM does not check, or an unreadable key
  }
}

// ---- writing -----------------------------------------------------------------------------------

/** How a CA key signs: its AlgorithmIdentifier and the signing call (SHA-256, or Ed25519). */
export function signerFor(key: KeyObject): { algorithm: AlgorithmIdentifier; sign: (data: Buffer) => Buffer } {
  switch (key.asymmetricKeyType) {
    case 'rsa': // sha256WithRSAEncryption, parameters NULL
      return { algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }), sign: (d) => sign('sha256', d, key) };
    case 'ec': // ecdsa-with-SHA256, parameters absent; node:crypto emits the DER signature X.509 wants
      return { algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), sign: (d) => sign('sha256', d, key) };
    case 'ed25519':
      return { algorithm: new AlgorithmIdentifier({ algorithm: '1.3.101.112' }), sign: (d) => sign(null, d, key) };
    default:
      throw new CertificateError(`CA private key: key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (RSA, EC or Ed25519)`);
  }
}

/** An extension whose value is `value` (any ASN.1 value of the schemas). */
export const extension = (extnID: string, critical: boolean, value: object): Extension =>
  new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });

/** Random positive 128-bit serial whose DER INTEGER needs no padding byte. */
function randomSerial(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return toArrayBuffer(bytes);
}

export interface CertificateSpec {
  issuer: Name;
  subject: Name;
  subjectPublicKeyInfo: SubjectPublicKeyInfo;
  notBefore: Date;
  notAfter: Date;
  extensions: Extension[];
  signingKey: KeyObject;
}

/** A v3 certificate with a random serial, signed by `signingKey`; its DER. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const signer = signerFor(spec.signingKey);
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial(),
    signature: signer.algorithm,
    issuer: spec.issuer,
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: spec.subject,
    subjectPublicKeyInfo: spec.subjectPublicKeyInfo,
    extensions: new Extensions(spec.extensions),
  });
  const signature = signer.sign(derOf(tbsCertificate));
  return derOf(new Certificate({ tbsCertificate, signatureAlgorithm: signer.algorithm, signatureValue: toArrayBuffer(signature) }));
}

/** The SubjectPublicKeyInfo of a key (public, or the public half of a private one). */
export const subjectPublicKeyInfoOf = (key: KeyObject): SubjectPublicKeyInfo =>
  AsnConvert.parse(createPublicKey(key).export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);

// ---- requests ----------------------------------------------------------------------------------

export interface ParsedCsr {
  /** CertificationRequestInfo exactly as signed. */
  info: Buffer;
  subject: Name;
  subjectPublicKeyInfo: SubjectPublicKeyInfo;
  signatureAlgorithm: string;
  signature: Buffer;
}

export function parseCsr(der: Buffer, what: string): ParsedCsr {
  let csr: CertificationRequest;
  try {
    csr = AsnConvert.parse(der, CertificationRequest);
  } catch {
    throw new CertificateError(`${what}: malformed DER`);
  }
  const info = csr.certificationRequestInfo;
  if (info.version !== 0) throw new CertificateError(`${what}: unsupported version`);
  return {
    info: Buffer.from(csr.certificationRequestInfoRaw ?? AsnConvert.serialize(info)),
    subject: info.subject,
    subjectPublicKeyInfo: info.subjectPKInfo,
    signatureAlgorithm: csr.signatureAlgorithm.algorithm,
    signature: Buffer.from(csr.signature),
  };
}
