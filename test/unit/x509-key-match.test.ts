/**
 * A key of another type or curve is not the certificate's key, and asking leaves nothing behind:
 * node:crypto's KeyObject.equals of such keys leaves an OpenSSL error queued that the next
 * node:crypto call (here createPrivateKey) would throw.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { certificateMatchesKey } from '../../src/certificates/certificates.js';

const golden = (name: string) =>
  fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/x509-golden', name), 'utf8');
const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('certificateMatchesKey with keys of other types', () => {
  it.each([
    ['an RSA certificate, an EC key', 'tenant-by-rsa-ca.pem', golden('tenant-ec-key.pem')],
    ['an EC certificate, an RSA key', 'tenant-ec-key.crt.pem', golden('tenant-key.pem')],
    [
      'an EC P-256 certificate, a P-384 key',
      'tenant-ec-key.crt.pem',
      pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey),
    ],
    ['an RSA certificate, an Ed25519 key', 'tenant-by-rsa-ca.pem', pem(generateKeyPairSync('ed25519').privateKey)],
  ])('%s: false, and the next node:crypto call works', (_label, certificate, key) => {
    expect(certificateMatchesKey(golden(certificate), key)).toBe(false);
    expect(() => createPrivateKey(golden('tenant-key.pem'))).not.toThrow();
  });
});
