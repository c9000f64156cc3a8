/** Reading PKCS#10 certificate requests (RFC 2986). */
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import type { Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { CertificateError } from './pem.js';

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
