/**
 * The DCM's certificate authority for service meshes: a self-signed root (generated once by
 * the DCM) or an operator-supplied CA with its chain, and the per-cluster intermediate CAs it
 * issues for Istio's plug-in CA (the `cacerts` Secret istiod reads).
 *
 * Certificates are written with @peculiar/asn1-x509 (x509.ts) and signed with node:crypto
 * (the signer's key may be RSA, EC or Ed25519); keys are generated with node:crypto. An intermediate is a CA for exactly one level below it (pathlen 0), may only
 * sign and revoke (keyUsage keyCertSign + cRLSign, critical), names its logical cloud and
 * cluster in its subject and a SPIFFE URI SAN, and carries a critical name constraint that
 * permits URI names only in its logical cloud's trust domain: a validator that honours name
 * constraints (Go, OpenSSL, BoringSSL) refuses a workload identity of another logical cloud
 * minted with it. Failures throw CertificateError, whose messages never include key material.
 */
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
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
import { generatePrivateKey } from './certificates.js';
import { CertificateError, pemBlocks, toPem } from './pem.js';
import {
  OID,
  buildCertificate,
  extension,
  extensionOf,
  holdsKey,
  issuedBy,
  keyIdentifier,
  nameOf,
  parseCertificate,
  signerFor,
  subjectKeyIdentifier,
  subjectPublicKeyInfoOf,
  type ParsedCertificate,
} from './x509.js';

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

/** What signs intermediates: the CA certificate and key, and the chain above it up to the root. */
export interface CaSigner extends CaKeyPair {
  /** The certificates above the signer, nearest first, ending with the self-signed root; empty when the signer is the root. */
  chainPem: string[];
  /** The self-signed root at the top (the signer itself when it is the root). */
  rootPem: string;
}

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

// ---- names and extensions -------------------------------------------------------------------

/** A value shortened to `max` characters with a short hash of the original, so that two long values stay apart. */
export function fitName(value: string, max = NAME_MAX): string {
  const chars = [...value];
  if (chars.length <= max) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 6);
  return `${chars.slice(0, max - 7).join('')}~${hash}`;
}

function caName(subject: CaSubject): Name {
  const attributes = [
    ...(subject.organization !== undefined ? [{ oid: OID.organization, value: subject.organization }] : []),
    ...(subject.organizationalUnit !== undefined ? [{ oid: OID.organizationalUnit, value: subject.organizationalUnit }] : []),
    { oid: OID.commonName, value: subject.commonName },
  ];
  if (attributes.some((a) => a.value.trim() === '')) throw new CertificateError('certificate subject: names must not be empty');
  return nameOf(attributes.map((a) => ({ oid: a.oid, value: fitName(a.value) })));
}

interface CaCertificateSpec {
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

function buildCaCertificate(spec: CaCertificateSpec): Buffer {
  const subjectPublicKeyInfo = subjectPublicKeyInfoOf(spec.subjectKey);
  const extensions = [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, ...(spec.pathLength !== undefined && { pathLenConstraint: spec.pathLength }) })),
    extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(subjectPublicKeyInfo))),
  ];
  if (spec.authorityKeyId) {
    extensions.push(extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(spec.authorityKeyId) })));
  }
  if (spec.uris?.length) {
    extensions.push(extension(id_ce_subjectAltName, false, new SubjectAlternativeName(spec.uris.map((uri) => new GeneralName({ uniformResourceIdentifier: uri })))));
  }
  if (spec.permittedUriHosts?.length) {
    const permittedSubtrees = new GeneralSubtrees(spec.permittedUriHosts.map((host) => new GeneralSubtree({ base: new GeneralName({ uniformResourceIdentifier: host }) })));
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

// ---- reading ----------------------------------------------------------------------------------

interface LoadedCertificate {
  pem: string;
  parsed: ParsedCertificate;
}

function readCertificateBundle(pem: string, what: string): LoadedCertificate[] {
  return pemBlocks(pem, ['CERTIFICATE'], what).map((der) => ({ pem: toPem('CERTIFICATE', der), parsed: parseCertificate(der, what) }));
}

function readKey(pem: string, what: string): KeyObject {
  if (typeof pem !== 'string' || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new CertificateError(`${what}: no PEM private key found`);
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
function mayCertSign(parsed: ParsedCertificate): boolean {
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
const fingerprint256 = (c: LoadedCertificate) => createHash('sha256').update(c.parsed.der).digest('hex').toUpperCase().match(/../g)!.join(':');
/** Subject or issuer as OpenSSL prints it (one RDN a line, the way the API has always shown them), joined by ", ". */
const displayName = (c: LoadedCertificate, which: 'subject' | 'issuer') => new X509Certificate(c.parsed.der)[which].replace(/\n/g, ', ');

const selfSigned = (c: LoadedCertificate) => issuedBy(c.parsed, c.parsed);

// ---- the root ---------------------------------------------------------------------------------

/**
 * A new self-signed root CA (RSA, SHA-256) for `validitySeconds`, back-dated an hour so that
 * replicas (and clusters) whose clocks lag a little accept it at once; pathlen 1: root →
 * intermediates → workloads.
 */
export async function createRootCa(opts: { subject: CaSubject; validitySeconds: number; keyBits?: 2048 | 3072 | 4096 }): Promise<CaKeyPair> {
  if (!Number.isSafeInteger(opts.validitySeconds) || opts.validitySeconds < 3600) throw new CertificateError('root validity must be at least 3600 seconds');
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
  names: { certificate: string; key: string; chain: string } = { certificate: 'CA certificate', key: 'CA private key', chain: 'CA chain' },
  now = new Date(),
): CaSigner {
  const [certificate, ...extra] = readCertificateBundle(input.certificatePem, names.certificate);
  if (!certificate) throw new CertificateError(`${names.certificate}: no certificate`);
  const key = readKey(input.keyPem, names.key);
  if (!holdsKey(certificate.parsed, key)) throw new CertificateError(`${names.key} does not match ${names.certificate}`);
  signerFor(key); // refuses unsupported key types now rather than at the first issue
  const { ca, pathLength } = basicConstraintsOf(certificate.parsed);
  if (!ca) throw new CertificateError(`${names.certificate}: not a CA certificate (basicConstraints CA:TRUE is missing)`);
  if (pathLength === 0) {
    throw new CertificateError(`${names.certificate}: its path length constraint is 0, so it cannot issue the intermediate CAs istiod needs (pathlen 1 or more, or none)`);
  }
  if (!mayCertSign(certificate.parsed)) throw new CertificateError(`${names.certificate}: its key usage does not allow signing certificates (keyCertSign)`);
  // A few minutes of clock skew between whoever issued it and this replica are tolerated.
  if (certificate.parsed.notAfter <= now || certificate.parsed.notBefore.getTime() > now.getTime() + 300_000) {
    throw new CertificateError(`${names.certificate}: not valid now (valid ${certificate.parsed.notBefore.toISOString()} to ${certificate.parsed.notAfter.toISOString()})`);
  }
  // The chain: from the file, or certificates that followed the signer in its own file.
  let chain = [...extra, ...(input.chainPem?.trim() ? readCertificateBundle(input.chainPem, names.chain) : [])];
  if (chain[0] && fingerprint256(chain[0]) === fingerprint256(certificate)) chain = chain.slice(1);
  const path = [certificate, ...chain];
  for (let i = 0; i + 1 < path.length; i++) {
    if (!issuedBy(path[i]!.parsed, path[i + 1]!.parsed)) {
      throw new CertificateError(`${names.chain}: certificate ${i + 1} of the path (${displayName(path[i]!, 'subject')}) is not issued by the next one`);
    }
    if (!basicConstraintsOf(path[i + 1]!.parsed).ca) throw new CertificateError(`${names.chain}: certificate ${i + 2} of the path is not a CA`);
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

// ---- intermediates ------------------------------------------------------------------------------

/**
 * Issues an intermediate CA under the signer, with a new RSA key: CA:TRUE pathlen 0 (critical),
 * keyCertSign + cRLSign (critical), the URI SAN `uri`, and — when `trustDomain` is given — a
 * critical name constraint permitting URI names only in that trust domain. Valid from a minute
 * ago for `validitySeconds`, never beyond the signer's own notAfter.
 */
export async function issueIntermediateCa(
  signer: CaSigner,
  opts: { subject: CaSubject; uri: string; trustDomain?: string; validitySeconds: number; keyBits?: 2048 | 3072 | 4096 },
): Promise<IssuedIntermediate> {
  if (!Number.isSafeInteger(opts.validitySeconds) || opts.validitySeconds < 600) throw new CertificateError('intermediate validity must be at least 600 seconds');
  if (!/^[\x21-\x7e]+$/.test(opts.uri)) throw new CertificateError('intermediate URI SAN must be printable ASCII (percent-encode the rest)');
  if (opts.trustDomain !== undefined && !/^[a-z0-9._-]+$/.test(opts.trustDomain)) {
    throw new CertificateError('trust domain must be lower-case letters, digits, ".", "_" and "-"');
  }
  const [issuer] = readCertificateBundle(signer.certificatePem, 'CA certificate');
  const issuerKey = readKey(signer.keyPem, 'CA private key');
  const now = Math.floor(Date.now() / 1000) * 1000;
  const notAfter = Math.min(now + opts.validitySeconds * 1000, issuer!.parsed.notAfter.getTime());
  if (notAfter <= now + 600_000) throw new CertificateError('the CA certificate expires within 10 minutes: renew it before issuing intermediates');
  const keyPem = await generatePrivateKey(opts.keyBits ?? 2048);
  const der = buildCaCertificate({
    issuerName: issuer!.parsed.asn.tbsCertificate.subject,
    subjectName: caName(opts.subject),
    subjectKey: createPrivateKey(keyPem),
    issuerKey,
    authorityKeyId: subjectKeyIdentifier(issuer!.parsed) ?? keyIdentifier(issuer!.parsed.asn.tbsCertificate.subjectPublicKeyInfo),
    pathLength: 0,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(notAfter),
    uris: [opts.uri],
    ...(opts.trustDomain !== undefined ? { permittedUriHosts: [opts.trustDomain] } : {}),
  });
  const parsed = parseCertificate(der, 'intermediate certificate');
  return { certificatePem: toPem('CERTIFICATE', der), keyPem, serialNumber: parsed.serialNumber, notBefore: parsed.notBefore, notAfter: parsed.notAfter };
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
    return holdsKey(certificate!.parsed, readKey(intermediate.keyPem, 'intermediate key')) && issuedBy(certificate!.parsed, issuer!.parsed) && now < renewAt;
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
  const uris = (extensionOf(parsed, id_ce_subjectAltName, SubjectAlternativeName) ?? []).flatMap((n) => n.uniformResourceIdentifier ?? []);
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
