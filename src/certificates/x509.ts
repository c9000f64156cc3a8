/**
 * Structure of X.509 certificates (RFC 5280) and PKCS#10 requests (RFC 2986): reading the fields
 * this module needs, and writing a client certificate. Signing and verifying use node:crypto, so
 * a CA key may be RSA, EC or Ed25519.
 */
import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import {
  CertificateError,
  Tag,
  bitStringBytes,
  childrenOf,
  decodeOid,
  decodeTime,
  encode,
  encodeBitString,
  encodeOid,
  encodeTime,
  expectChildren,
  parseDer,
  type DerNode,
} from './der.js';

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Signature algorithms accepted on requests: OID → digest for node:crypto (null: Ed25519). */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519
};

export interface ParsedCertificate {
  serialNumber: string;
  issuer: DerNode;
  subject: DerNode;
  notBefore: Date;
  notAfter: Date;
  extensions: Map<string, Buffer>;
}

export function parseCertificate(der: Buffer, what: string): ParsedCertificate {
  const [tbs] = expectChildren(parseDer(der, what), Tag.SEQUENCE, 3, what);
  const fields = expectChildren(tbs, Tag.SEQUENCE, 6, what);
  const rest = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields; // optional [0] version
  const [serial, , issuer, validity, subject] = rest;
  if (serial?.tag !== Tag.INTEGER || !issuer || !subject) throw new CertificateError(`${what}: unexpected ASN.1 structure`);
  const [notBefore, notAfter] = expectChildren(validity, Tag.SEQUENCE, 2, what);
  const extensions = new Map<string, Buffer>();
  const wrapper = rest.find((field) => field.tag === 0xa3);
  if (wrapper) {
    const [list] = childrenOf(wrapper, what);
    for (const extension of expectChildren(list, Tag.SEQUENCE, 0, what)) {
      const parts = expectChildren(extension, Tag.SEQUENCE, 2, what);
      const value = parts[parts.length - 1]!;
      if (parts[0]!.tag !== Tag.OID || value.tag !== Tag.OCTET_STRING) throw new CertificateError(`${what}: unexpected ASN.1 structure`);
      extensions.set(decodeOid(parts[0]!), value.content);
    }
  }
  return {
    serialNumber: serial.content.toString('hex').replace(/^(00)+(?=..)/, ''),
    issuer,
    subject,
    notBefore: decodeTime(notBefore, what),
    notAfter: decodeTime(notAfter, what),
    extensions,
  };
}

/** The key identifier of a SubjectKeyIdentifier extension value, if the certificate has one. */
export function subjectKeyIdentifier(certificate: ParsedCertificate): Buffer | undefined {
  const value = certificate.extensions.get(OID.subjectKeyIdentifier);
  if (!value) return undefined;
  const node = parseDer(value, 'CA certificate subjectKeyIdentifier');
  return node.tag === Tag.OCTET_STRING && node.content.length > 0 ? node.content : undefined;
}

export interface ParsedCsr {
  /** CertificationRequestInfo exactly as signed. */
  info: Buffer;
  subject: DerNode;
  subjectPublicKeyInfo: DerNode;
  signatureAlgorithm: string;
  signature: Buffer;
}

export function parseCsr(der: Buffer, what: string): ParsedCsr {
  const [info, algorithm, signature] = expectChildren(parseDer(der, what), Tag.SEQUENCE, 3, what);
  const [version, subject, subjectPublicKeyInfo] = expectChildren(info, Tag.SEQUENCE, 3, what);
  if (version?.tag !== Tag.INTEGER || version.content.length !== 1 || version.content[0] !== 0) {
    throw new CertificateError(`${what}: unsupported version`);
  }
  const [algorithmOid] = expectChildren(algorithm, Tag.SEQUENCE, 1, what);
  if (algorithmOid?.tag !== Tag.OID || subject?.tag !== Tag.SEQUENCE || subjectPublicKeyInfo?.tag !== Tag.SEQUENCE) {
    throw new CertificateError(`${what}: unexpected ASN.1 structure`);
  }
  return {
    info: info!.der,
    subject,
    subjectPublicKeyInfo,
    signatureAlgorithm: decodeOid(algorithmOid),
    signature: bitStringBytes(signature, what),
  };
}

export function verifySignature(algorithmOid: string, data: Buffer, key: KeyObject, signature: Buffer, what: string): boolean {
  const digest = SIGNATURE_DIGESTS[algorithmOid];
  if (digest === undefined) throw new CertificateError(`${what}: signature algorithm ${algorithmOid} is not supported`);
  try {
    return verify(digest, data, key, signature);
  } catch {
    return false; // algorithm does not fit the key, or the signature is unreadable
  }
}

/** How a CA key signs: its AlgorithmIdentifier and the signing call (SHA-256 except Ed25519). */
function signerFor(key: KeyObject): { algorithmIdentifier: Buffer; sign: (data: Buffer) => Buffer } {
  switch (key.asymmetricKeyType) {
    case 'rsa': // sha256WithRSAEncryption, parameters NULL
      return { algorithmIdentifier: encode(Tag.SEQUENCE, encodeOid('1.2.840.113549.1.1.11'), encode(Tag.NULL)), sign: (d) => sign('sha256', d, key) };
    case 'ec': // ecdsa-with-SHA256, parameters absent; node:crypto emits the DER signature X.509 wants
      return { algorithmIdentifier: encode(Tag.SEQUENCE, encodeOid('1.2.840.10045.4.3.2')), sign: (d) => sign('sha256', d, key) };
    case 'ed25519':
      return { algorithmIdentifier: encode(Tag.SEQUENCE, encodeOid('1.3.101.112')), sign: (d) => sign(null, d, key) };
    default:
      throw new CertificateError(`CA private key: key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (RSA, EC or Ed25519)`);
  }
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  const criticalFlag = critical ? [encode(0x01, Buffer.from([0xff]))] : [];
  return encode(Tag.SEQUENCE, encodeOid(oid), ...criticalFlag, encode(Tag.OCTET_STRING, value));
}

/** Random positive 128-bit serial whose DER INTEGER needs no padding byte. */
function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes;
}

export function buildClientCertificate(opts: {
  issuer: DerNode;
  subject: DerNode;
  subjectPublicKeyInfo: DerNode;
  subjectKeyIsRsa: boolean;
  notBefore: Date;
  notAfter: Date;
  authorityKeyIdentifier?: Buffer;
  caKey: KeyObject;
}): Buffer {
  const signer = signerFor(opts.caKey);
  // digitalSignature (bit 0), plus keyEncipherment (bit 2) where the key can do it (RSA).
  const keyUsage = opts.subjectKeyIsRsa ? Buffer.from([0x05, 0xa0]) : Buffer.from([0x07, 0x80]);
  const extensions = [
    extension(OID.basicConstraints, true, encode(Tag.SEQUENCE)),
    extension(OID.keyUsage, true, encode(Tag.BIT_STRING, keyUsage)),
    extension(OID.extKeyUsage, false, encode(Tag.SEQUENCE, encodeOid(OID.clientAuth))),
  ];
  if (opts.authorityKeyIdentifier) {
    extensions.push(extension(OID.authorityKeyIdentifier, false, encode(Tag.SEQUENCE, encode(0x80, opts.authorityKeyIdentifier))));
  }
  const tbs = encode(
    Tag.SEQUENCE,
    encode(0xa0, encode(Tag.INTEGER, Buffer.from([2]))), // v3
    encode(Tag.INTEGER, randomSerial()),
    signer.algorithmIdentifier,
    opts.issuer.der,
    encode(Tag.SEQUENCE, encodeTime(opts.notBefore), encodeTime(opts.notAfter)),
    opts.subject.der,
    opts.subjectPublicKeyInfo.der,
    encode(0xa3, encode(Tag.SEQUENCE, ...extensions)),
  );
  return encode(Tag.SEQUENCE, tbs, signer.algorithmIdentifier, encodeBitString(signer.sign(tbs)));
}
