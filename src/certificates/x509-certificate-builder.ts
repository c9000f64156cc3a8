/** Writing X.509 certificates: v3 certificates with their extensions, signed by a CA key. */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Certificate,
  Extension,
  Extensions,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  type Name,
} from '@peculiar/asn1-x509';
import { derOf } from './x509.js';
import { signerFor } from './x509-signatures.js';

const toArrayBuffer = (bytes: Buffer): ArrayBuffer => Uint8Array.from(bytes).buffer;

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
  return derOf(
    new Certificate({ tbsCertificate, signatureAlgorithm: signer.algorithm, signatureValue: toArrayBuffer(signature) }),
  );
}

/** The SubjectPublicKeyInfo of a key (public, or the public half of a private one). */
export const subjectPublicKeyInfoOf = (key: KeyObject): SubjectPublicKeyInfo =>
  AsnConvert.parse(createPublicKey(key).export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
