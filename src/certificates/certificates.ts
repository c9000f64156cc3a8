/**
 * Tenant client certificates: private keys (node:crypto), PKCS#10 requests (built by
 * node-forge, signed by node:crypto) and
 * local signing by a cluster CA. Issued certificates copy the request's subject and public key
 * byte for byte; the issuer is the CA certificate's subject byte for byte, which is what Go
 * (the Kubernetes apiserver) needs to chain them. Any failure throws CertificateError, whose
 * messages never include key material.
 */
import {
  X509Certificate,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { CertificateError, nameAttributes, pemBlocks, toPem } from './der.js';
import { OID, buildClientCertificate, parseCertificate, parseCsr, subjectKeyIdentifier, verifySignature } from './x509.js';

export { CertificateError } from './der.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const CERTIFICATE = ['CERTIFICATE'];
const CSR = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

/** A new RSA private key as PKCS#1 PEM ("RSA PRIVATE KEY"). */
export async function generatePrivateKey(bits: 2048 | 3072 | 4096 = 2048): Promise<string> {
  if (![2048, 3072, 4096].includes(bits)) throw new CertificateError(`RSA key size must be 2048, 3072 or 4096 bits, not ${String(bits)}`);
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

function readCertificates(pem: string, what: string): { der: Buffer; x509: X509Certificate }[] {
  return pemBlocks(pem, CERTIFICATE, what).map((der) => {
    try {
      return { der, x509: new X509Certificate(der) };
    } catch {
      throw new CertificateError(`${what}: not a valid X.509 certificate`);
    }
  });
}

/** PrintableString when the value allows it (as Go writes names), UTF8String otherwise. */
function subjectField(name: string, value: string): forge.pki.CertificateField {
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
  // asn1.Type.PRINTABLESTRING = 19, asn1.Type.UTF8 = 12 (typed as asn1.Class by @types/node-forge)
  return { name, value, valueTagClass: (printable ? 19 : 12) as forge.asn1.Class };
}

/** A PKCS#10 request (PEM) for an RSA key (PKCS#1 or PKCS#8 PEM), subject CN and O, signed SHA-256. */
/** In node-forge, untyped in @types/node-forge. */
interface CertificationRequestInfoOf {
  getCertificationRequestInfo(csr: forge.pki.CertificateSigningRequest): forge.asn1.Asn1;
}

export function createCsr(opts: { privateKeyPem: string; commonName: string; organization?: string | readonly string[] }): string {
  if (typeof opts.commonName !== 'string' || opts.commonName.trim() === '') throw new CertificateError('CSR common name must not be empty');
  const organizations = opts.organization === undefined ? [] : typeof opts.organization === 'string' ? [opts.organization] : [...opts.organization];
  if (organizations.some((o) => typeof o !== 'string' || o.trim() === '')) throw new CertificateError('CSR organization must not be empty');
  const key = readPrivateKey(opts.privateKeyPem, 'CSR private key');
  if (key.asymmetricKeyType !== 'rsa') throw new CertificateError(`CSR private key: must be RSA, not ${key.asymmetricKeyType ?? 'unknown'}`);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject([subjectField('commonName', opts.commonName), ...organizations.map((o) => subjectField('organizationName', o))]);
  // What csr.sign(key, sha256) does, with the RSA signature made by node:crypto (native) rather
  // than forge's JavaScript big-integer arithmetic, which costs tens of milliseconds per CSR.
  const signable = csr as typeof csr & { certificationRequestInfo: forge.asn1.Asn1; siginfo: { algorithmOid: string } };
  signable.signatureOid = signable.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  signable.certificationRequestInfo = (forge.pki as unknown as CertificationRequestInfoOf).getCertificationRequestInfo(csr);
  const info = Buffer.from(forge.asn1.toDer(signable.certificationRequestInfo).getBytes(), 'binary');
  signable.signature = cryptoSign('sha256', info, key).toString('binary');
  return forge.pki.certificationRequestToPem(csr).replace(/\r\n/g, '\n');
}

/**
 * Issues a client certificate for a PKCS#10 request, signed SHA-256 by a CA whose key is RSA,
 * EC or Ed25519 (PKCS#1, PKCS#8 or SEC1 PEM). `caCertPem` may be a bundle: the certificate
 * matching the key is used. Only the request's subject and public key are taken; requested
 * extensions are ignored.
 */
export function signCsrLocally(opts: { csrPem: string; caCertPem: string; caKeyPem: string; validitySeconds: number; usages: 'client' }): string {
  if (opts.usages !== 'client') throw new CertificateError(`unsupported certificate usages: ${String(opts.usages)}`);
  if (!Number.isSafeInteger(opts.validitySeconds) || opts.validitySeconds < 1) {
    throw new CertificateError('validitySeconds must be a positive whole number of seconds');
  }
  const csrDers = pemBlocks(opts.csrPem, CSR, 'CSR');
  if (csrDers.length !== 1) throw new CertificateError('CSR: expected exactly one certificate request');
  const csr = parseCsr(csrDers[0]!, 'CSR');
  let subjectKey: KeyObject;
  try {
    subjectKey = createPublicKey({ key: csr.subjectPublicKeyInfo.der, format: 'der', type: 'spki' });
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
  if (!nameAttributes(csr.subject, 'CSR').some((a) => a.oid === OID.commonName && a.value !== '')) {
    throw new CertificateError('CSR: subject has no common name');
  }

  const caKey = readPrivateKey(opts.caKeyPem, 'CA private key');
  const ca = readCertificates(opts.caCertPem, 'CA certificate').find((c) => c.x509.checkPrivateKey(caKey));
  if (!ca) throw new CertificateError('CA private key does not match the CA certificate');
  const caCertificate = parseCertificate(ca.der, 'CA certificate');

  const now = Math.floor(Date.now() / 1000) * 1000;
  const der = buildClientCertificate({
    issuer: caCertificate.subject,
    subject: csr.subject,
    subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
    subjectKeyIsRsa: subjectKey.asymmetricKeyType === 'rsa',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + opts.validitySeconds * 1000),
    authorityKeyIdentifier: subjectKeyIdentifier(caCertificate),
    caKey,
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
  const certificate = parseCertificate(readCertificates(pem, 'certificate')[0]!.der, 'certificate');
  const subject = nameAttributes(certificate.subject, 'certificate subject');
  const commonName = subject.find((a) => a.oid === OID.commonName)?.value;
  const organization = subject.filter((a) => a.oid === OID.organization).map((a) => a.value);
  const issuerCommonName = nameAttributes(certificate.issuer, 'certificate issuer').find((a) => a.oid === OID.commonName)?.value;
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

/** Whether the certificate (first of a bundle) carries the public key of `privateKeyPem`. */
export function certificateMatchesKey(certPem: string, privateKeyPem: string): boolean {
  const [certificate] = readCertificates(certPem, 'certificate');
  return certificate!.x509.checkPrivateKey(readPrivateKey(privateKeyPem, 'private key'));
}

/**
 * Whether the certificate (first of a bundle) was issued by the CA certificate, or by one of a
 * CA bundle: issuer name and key identifiers match and the signature verifies. Validity dates
 * are not checked.
 */
export function verifyIssuedBy(certPem: string, caCertPem: string): boolean {
  const [certificate] = readCertificates(certPem, 'certificate');
  return readCertificates(caCertPem, 'CA certificate').some(
    (ca) => certificate!.x509.checkIssued(ca.x509) && certificate!.x509.verify(ca.x509.publicKey),
  );
}
