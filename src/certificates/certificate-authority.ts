/**
 * The DCM's certificate authority for service meshes: a self-signed root (generated once by
 * the DCM) or an operator-supplied CA with its chain, and the per-cluster intermediate CAs it
 * issues for Istio's plug-in CA (the `cacerts` Secret istiod reads).
 *
 * Certificates are written with the DER helpers of der.ts / x509.ts and signed with
 * node:crypto (the signer's key may be RSA, EC or Ed25519); keys are generated with
 * node:crypto. An intermediate is a CA for exactly one level below it (pathlen 0), may only
 * sign and revoke (keyUsage keyCertSign + cRLSign, critical), names its logical cloud and
 * cluster in its subject and a SPIFFE URI SAN, and carries a critical name constraint that
 * permits URI names only in its logical cloud's trust domain: a validator that honours name
 * constraints (Go, OpenSSL, BoringSSL) refuses a workload identity of another logical cloud
 * minted with it. Failures throw CertificateError, whose messages never include key material.
 */
import { X509Certificate, createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { generatePrivateKey } from './certificates.js';
import {
  CertificateError,
  Tag,
  bitStringBytes,
  childrenOf,
  encode,
  encodeBitString,
  encodeOid,
  encodeTime,
  expectChildren,
  parseDer,
  pemBlocks,
  toPem,
} from './der.js';
import { OID, parseCertificate, subjectKeyIdentifier, type ParsedCertificate } from './x509.js';

const CA_OID = {
  organizationalUnit: '2.5.4.11',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
} as const;

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

function encodeName(subject: CaSubject): Buffer {
  const attribute = (oid: string, value: string) => {
    if (value.trim() === '') throw new CertificateError('certificate subject: names must not be empty');
    const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
    const text = encode(printable ? Tag.PRINTABLE_STRING : Tag.UTF8_STRING, Buffer.from(fitName(value), 'utf8'));
    return encode(Tag.SET, encode(Tag.SEQUENCE, encodeOid(oid), text));
  };
  return encode(
    Tag.SEQUENCE,
    ...(subject.organization !== undefined ? [attribute(OID.organization, subject.organization)] : []),
    ...(subject.organizationalUnit !== undefined ? [attribute(CA_OID.organizationalUnit, subject.organizationalUnit)] : []),
    attribute(OID.commonName, subject.commonName),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return encode(Tag.SEQUENCE, encodeOid(oid), ...(critical ? [encode(0x01, Buffer.from([0xff]))] : []), encode(Tag.OCTET_STRING, value));
}

const smallInteger = (n: number) => encode(Tag.INTEGER, Buffer.from([n]));

/** Random positive 128-bit serial whose DER INTEGER needs no padding byte. */
function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes;
}

/** How a CA key signs: its AlgorithmIdentifier and the signing call (SHA-256, or Ed25519). */
function signerFor(key: KeyObject): { algorithmIdentifier: Buffer; sign: (data: Buffer) => Buffer } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithmIdentifier: encode(Tag.SEQUENCE, encodeOid('1.2.840.113549.1.1.11'), encode(Tag.NULL)), sign: (d) => sign('sha256', d, key) };
    case 'ec':
      return { algorithmIdentifier: encode(Tag.SEQUENCE, encodeOid('1.2.840.10045.4.3.2')), sign: (d) => sign('sha256', d, key) };
    case 'ed25519':
      return { algorithmIdentifier: encode(Tag.SEQUENCE, encodeOid('1.3.101.112')), sign: (d) => sign(null, d, key) };
    default:
      throw new CertificateError(`CA private key: key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (RSA, EC or Ed25519)`);
  }
}

/** SPKI of a public key and its key identifier (SHA-1 of the subjectPublicKey bits, RFC 5280 §4.2.1.2 method 1). */
function publicKeyInfo(key: KeyObject): { spki: Buffer; keyId: Buffer } {
  const spki = key.export({ type: 'spki', format: 'der' });
  const [, bits] = expectChildren(parseDer(spki, 'public key'), Tag.SEQUENCE, 2, 'public key');
  return { spki, keyId: createHash('sha1').update(bitStringBytes(bits, 'public key')).digest() };
}

interface CaCertificateSpec {
  issuerName: Buffer;
  subjectName: Buffer;
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
  const signer = signerFor(spec.issuerKey);
  const { spki, keyId } = publicKeyInfo(spec.subjectKey);
  const extensions = [
    extension(OID.basicConstraints, true, encode(Tag.SEQUENCE, encode(0x01, Buffer.from([0xff])), ...(spec.pathLength !== undefined ? [smallInteger(spec.pathLength)] : []))),
    // keyCertSign (bit 5) and cRLSign (bit 6): one byte 0b00000110, one unused bit.
    extension(OID.keyUsage, true, encode(Tag.BIT_STRING, Buffer.from([0x01, 0x06]))),
    extension(OID.subjectKeyIdentifier, false, encode(Tag.OCTET_STRING, keyId)),
  ];
  if (spec.authorityKeyId) extensions.push(extension(OID.authorityKeyIdentifier, false, encode(Tag.SEQUENCE, encode(0x80, spec.authorityKeyId))));
  if (spec.uris?.length) {
    extensions.push(extension(CA_OID.subjectAltName, false, encode(Tag.SEQUENCE, ...spec.uris.map((u) => encode(0x86, Buffer.from(u, 'ascii'))))));
  }
  if (spec.permittedUriHosts?.length) {
    // NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees }; GeneralSubtree ::= SEQUENCE { base GeneralName }
    const subtrees = spec.permittedUriHosts.map((host) => encode(Tag.SEQUENCE, encode(0x86, Buffer.from(host, 'ascii'))));
    extensions.push(extension(CA_OID.nameConstraints, true, encode(Tag.SEQUENCE, encode(0xa0, ...subtrees))));
  }
  const tbs = encode(
    Tag.SEQUENCE,
    encode(0xa0, smallInteger(2)), // v3
    encode(Tag.INTEGER, randomSerial()),
    signer.algorithmIdentifier,
    spec.issuerName,
    encode(Tag.SEQUENCE, encodeTime(spec.notBefore), encodeTime(spec.notAfter)),
    spec.subjectName,
    spki,
    encode(0xa3, encode(Tag.SEQUENCE, ...extensions)),
  );
  return encode(Tag.SEQUENCE, tbs, signer.algorithmIdentifier, encodeBitString(signer.sign(tbs)));
}

// ---- reading ----------------------------------------------------------------------------------

interface LoadedCertificate {
  pem: string;
  x509: X509Certificate;
  parsed: ParsedCertificate;
}

function readCertificateBundle(pem: string, what: string): LoadedCertificate[] {
  return pemBlocks(pem, ['CERTIFICATE'], what).map((der) => {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(der);
    } catch {
      throw new CertificateError(`${what}: not a valid X.509 certificate`);
    }
    return { pem: toPem('CERTIFICATE', der), x509, parsed: parseCertificate(der, what) };
  });
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
  const value = parsed.extensions.get(OID.basicConstraints);
  if (!value) return { ca: false, pathLength: undefined };
  const fields = childrenOf(parseDer(value, 'basicConstraints'), 'basicConstraints');
  let ca = false;
  let pathLength: number | undefined;
  for (const field of fields) {
    if (field.tag === 0x01) ca = field.content[0] !== 0;
    if (field.tag === Tag.INTEGER) pathLength = field.content.reduce((n, byte) => n * 256 + byte, 0);
  }
  return { ca, pathLength };
}

/** Whether keyUsage allows signing certificates (no keyUsage extension: unrestricted). */
function mayCertSign(parsed: ParsedCertificate): boolean {
  const value = parsed.extensions.get(OID.keyUsage);
  if (!value) return true;
  const node = parseDer(value, 'keyUsage');
  return node.tag === Tag.BIT_STRING && ((node.content[1] ?? 0) & 0x04) !== 0;
}

const selfSigned = (c: LoadedCertificate) => c.x509.checkIssued(c.x509) && c.x509.verify(c.x509.publicKey);
const issuedBy = (child: LoadedCertificate, parent: LoadedCertificate) => child.x509.checkIssued(parent.x509) && child.x509.verify(parent.x509.publicKey);

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
  const name = encodeName(opts.subject);
  const now = Math.floor(Date.now() / 1000) * 1000;
  const der = buildCaCertificate({
    issuerName: name,
    subjectName: name,
    subjectKey: createPublicKey(key),
    issuerKey: key,
    authorityKeyId: publicKeyInfo(createPublicKey(key)).keyId,
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
  if (!certificate.x509.checkPrivateKey(key)) throw new CertificateError(`${names.key} does not match ${names.certificate}`);
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
  if (chain[0] && chain[0].x509.fingerprint256 === certificate.x509.fingerprint256) chain = chain.slice(1);
  const path = [certificate, ...chain];
  for (let i = 0; i + 1 < path.length; i++) {
    if (!issuedBy(path[i]!, path[i + 1]!)) {
      throw new CertificateError(`${names.chain}: certificate ${i + 1} of the path (${path[i]!.x509.subject.replace(/\n/g, ', ')}) is not issued by the next one`);
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
    issuerName: issuer!.parsed.subject.der,
    subjectName: encodeName(opts.subject),
    subjectKey: createPublicKey(createPrivateKey(keyPem)),
    issuerKey,
    authorityKeyId: subjectKeyIdentifier(issuer!.parsed) ?? publicKeyInfo(issuer!.x509.publicKey).keyId,
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
    return certificate!.x509.checkPrivateKey(readKey(intermediate.keyPem, 'intermediate key')) && issuedBy(certificate!, issuer!) && now < renewAt;
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
  const { x509, parsed } = certificate!;
  const uris = (x509.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
  return {
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    serialNumber: parsed.serialNumber,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    uris,
    sha256Fingerprint: x509.fingerprint256,
  };
}
