/** Signature algorithms of X.509 certificates and PKCS#10 requests: how a CA key signs, which signatures the DCM checks. */
import { sign, verify, type KeyObject } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CertificateError } from './pem.js';

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

export function verifySignature(
  algorithmOid: string,
  data: Buffer,
  key: KeyObject,
  signature: Buffer,
  what: string,
  legacy = false,
): boolean {
  const digests = legacy ? { ...LEGACY_CERTIFICATE_DIGESTS, ...SIGNATURE_DIGESTS } : SIGNATURE_DIGESTS;
  const digest = digests[algorithmOid];
  if (digest === undefined) throw new CertificateError(`${what}: signature algorithm ${algorithmOid} is not supported`);
  try {
    return verify(digest, data, key, signature);
  } catch {
    return false; // algorithm does not fit the key, or the signature is unreadable
  }
}

/** How a CA key signs: its AlgorithmIdentifier and the signing call (SHA-256, or Ed25519). */
export function signerFor(key: KeyObject): { algorithm: AlgorithmIdentifier; sign: (data: Buffer) => Buffer } {
  switch (key.asymmetricKeyType) {
    case 'rsa': // sha256WithRSAEncryption, parameters NULL
      return {
        algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }),
        sign: (d) => sign('sha256', d, key),
      };
    case 'ec': // ecdsa-with-SHA256, parameters absent; node:crypto emits the DER signature X.509 wants
      return {
        algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }),
        sign: (d) => sign('sha256', d, key),
      };
    case 'ed25519':
      return { algorithm: new AlgorithmIdentifier({ algorithm: '1.3.101.112' }), sign: (d) => sign(null, d, key) };
    default:
      throw new CertificateError(
        `CA private key: key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (RSA, EC or Ed25519)`,
      );
  }
}
