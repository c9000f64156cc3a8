/**
 * The CA certificates of the DCM's service-mesh certificate authority: their names and
 * extensions. Certificates are written with @peculiar/asn1-x509 (../x509.ts) and
 * signed with node:crypto (the signer's key may be RSA, EC or Ed25519). Failures throw
 * CertificateError, whose messages never include key material.
 */
import { createHash, type KeyObject } from 'node:crypto';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  NameConstraints,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  type Name,
} from '@peculiar/asn1-x509';
import { CertificateError } from '../pem.js';
import { OID, nameOf } from '../x509.js';
import { buildCertificate, extension, subjectPublicKeyInfoOf } from '../x509-certificate-builder.js';
import { keyIdentifier } from '../x509-certificate-reader.js';

/** Upper bound of CN / O / OU in characters (RFC 5280 ub-common-name etc.). */
const NAME_MAX = 64;

export interface CaSubject {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
}

/** A CA certificate (PEM) and its private key (PEM). */
export interface CaKeyPair {
  certificatePem: string;
  keyPem: string;
}

/** A value shortened to `max` characters with a short hash of the original, so that two long values stay apart. */
export function fitName(value: string, max = NAME_MAX): string {
  const chars = [...value];
  if (chars.length <= max) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 6);
  return `${chars.slice(0, max - 7).join('')}~${hash}`;
}

export function caName(subject: CaSubject): Name {
  const attributes = [
    ...(subject.organization !== undefined ? [{ oid: OID.organization, value: subject.organization }] : []),
    ...(subject.organizationalUnit !== undefined
      ? [{ oid: OID.organizationalUnit, value: subject.organizationalUnit }]
      : []),
    { oid: OID.commonName, value: subject.commonName },
  ];
  if (attributes.some((a) => a.value.trim() === ''))
    throw new CertificateError('certificate subject: names must not be empty');
  return nameOf(attributes.map((a) => ({ oid: a.oid, value: fitName(a.value) })));
}

export interface CaCertificateSpec {
  issuerName: Name;
  subjectName: Name;
  subjectKey: KeyObject;
  issuerKey: KeyObject;
  authorityKeyId: Buffer | undefined;
  /** basicConstraints pathLenConstraint; undefined: no limit. */
  pathLength: number | undefined;
  notBefore: Date;
  notAfter: Date;
  uris?: string[];
  /** URI hosts (trust domains) the CA may put in the certificates it issues. */
  permittedUriHosts?: string[];
}

export function buildCaCertificate(spec: CaCertificateSpec): Buffer {
  const subjectPublicKeyInfo = subjectPublicKeyInfoOf(spec.subjectKey);
  const extensions = [
    extension(
      id_ce_basicConstraints,
      true,
      new BasicConstraints({ cA: true, ...(spec.pathLength !== undefined && { pathLenConstraint: spec.pathLength }) }),
    ),
    extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(subjectPublicKeyInfo))),
  ];
  if (spec.authorityKeyId) {
    extensions.push(
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(spec.authorityKeyId) }),
      ),
    );
  }
  if (spec.uris?.length) {
    extensions.push(
      extension(
        id_ce_subjectAltName,
        false,
        new SubjectAlternativeName(spec.uris.map((uri) => new GeneralName({ uniformResourceIdentifier: uri }))),
      ),
    );
  }
  if (spec.permittedUriHosts?.length) {
    const permittedSubtrees = new GeneralSubtrees(
      spec.permittedUriHosts.map(
        (host) => new GeneralSubtree({ base: new GeneralName({ uniformResourceIdentifier: host }) }),
      ),
    );
    extensions.push(extension(id_ce_nameConstraints, true, new NameConstraints({ permittedSubtrees })));
  }
  return buildCertificate({
    issuer: spec.issuerName,
    subject: spec.subjectName,
    subjectPublicKeyInfo,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    extensions,
    signingKey: spec.issuerKey,
  });
}
