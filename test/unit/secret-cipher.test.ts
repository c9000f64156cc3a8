import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  createSecretCipher,
  generateEncryptionKey,
  loadEncryptionKeys,
  parseEncryptionKeys,
  SecretCipher,
  SecretCipherError,
  type SealedSecret,
} from '../../src/security/secret-cipher.js';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA…\n-----END RSA PRIVATE KEY-----\n';
const cipherOf = (...keys: string[]) => new SecretCipher(parseEncryptionKeys(keys.join(',')));

describe('secret cipher', () => {
  const k1 = generateEncryptionKey('k1');
  const k2 = generateEncryptionKey('k2');

  it('seals with AES-256-GCM under the first key and opens again; nothing of the plaintext is in the sealed value', () => {
    const cipher = cipherOf(k1);
    const sealed = cipher.seal(PEM, 'cluster/p/c/kubeconfig') as SealedSecret;
    expect(sealed).toMatchObject({ alg: 'aes-256-gcm', kid: 'k1' });
    expect(JSON.stringify(sealed)).not.toContain('PRIVATE KEY');
    expect(cipher.open(sealed, 'cluster/p/c/kubeconfig')).toBe(PEM);
  });

  it('uses a fresh IV for every value', () => {
    const cipher = cipherOf(k1);
    const a = cipher.seal(PEM, 'x') as SealedSecret;
    const b = cipher.seal(PEM, 'x') as SealedSecret;
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('binds a value to its context: copied onto another record it does not open', () => {
    const cipher = cipherOf(k1);
    const sealed = cipher.seal(PEM, 'logical-cloud/a/private-key');
    expect(() => cipher.open(sealed, 'logical-cloud/b/private-key')).toThrow(/does not open with key "k1"/);
  });

  it('detects tampering', () => {
    const cipher = cipherOf(k1);
    const sealed = cipher.seal(PEM, 'x') as SealedSecret;
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0] = ct[0]! ^ 1;
    expect(() => cipher.open({ ...sealed, ct: ct.toString('base64') }, 'x')).toThrow(SecretCipherError);
  });

  it('rotates keys: the new first key seals, the old one still opens what it sealed, and marks it stale', () => {
    const old = cipherOf(k1).seal(PEM, 'x');
    const rotated = cipherOf(k2, k1);
    expect(rotated.open(old, 'x')).toBe(PEM);
    expect(rotated.isStale(old)).toBe(true);
    const fresh = rotated.seal(PEM, 'x');
    expect(fresh).toMatchObject({ kid: 'k2' });
    expect(rotated.isStale(fresh)).toBe(false);
  });

  it('names the missing key when a value was sealed with a key that is not configured', () => {
    const sealed = cipherOf(k1).seal(PEM, 'x');
    expect(() => cipherOf(k2).open(sealed, 'x')).toThrow(/sealed with key "k1", which is not configured/);
  });

  it('stores in clear only without keys (development mode), and opens such values only without keys', () => {
    const plain = new SecretCipher([]).seal(PEM, 'x');
    expect(plain).toEqual({ alg: 'none', value: PEM });
    expect(new SecretCipher([]).open(plain, 'x')).toBe(PEM);
    expect(new SecretCipher([]).isStale(plain)).toBe(false);
  });

  it('with keys configured, refuses an unsealed value: never opened, never sealed again, and the message holds none of it', () => {
    const cipher = cipherOf(k2, k1);
    const plain = { alg: 'none', value: PEM } as const;
    expect(() => cipher.open(plain, 'cluster/p/c/kubeconfig')).toThrow(SecretCipherError);
    let message = '';
    try {
      cipher.open(plain, 'cluster/p/c/kubeconfig');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(
      /^secret of cluster\/p\/c\/kubeconfig is stored unsealed \(alg "none"\) although encryption keys are configured: refused/,
    );
    expect(message).not.toContain('PRIVATE KEY');
    expect(message).not.toContain('MIIE');
    // Re-sealing at start-up skips it (isStale false), so it is never opened to be sealed again.
    expect(cipher.isStale(plain)).toBe(false);
    expect(cipher.refusesUnsealed(plain)).toBe(true);
    expect(cipher.refusesUnsealed(cipher.seal(PEM, 'x'))).toBe(false);
    expect(new SecretCipher([]).refusesUnsealed(plain)).toBe(false);
  });

  it('fixes the GCM tag at 16 bytes: a truncated or extended tag is refused, not checked against fewer bytes', () => {
    const cipher = cipherOf(k1);
    const sealed = cipher.seal(PEM, 'x') as SealedSecret;
    const tag = Buffer.from(sealed.tag, 'base64');
    expect(tag).toHaveLength(16);
    for (const bytes of [4, 8, 12, 15]) {
      // A truncated GCM tag of the right value would be accepted by a decipher that takes the tag's length from the value.
      expect(() => cipher.open({ ...sealed, tag: tag.subarray(0, bytes).toString('base64') }, 'x')).toThrow(
        /authentication tag is not 16 bytes/,
      );
    }
    expect(() =>
      cipher.open({ ...sealed, tag: Buffer.concat([tag, Buffer.from([0])]).toString('base64') }, 'x'),
    ).toThrow(/authentication tag is not 16 bytes/);
    expect(() => cipher.open({ ...sealed, tag: `${sealed.tag.slice(0, -4)}!!==` }, 'x')).toThrow(
      /authentication tag is not 16 bytes/,
    );
    expect(() => cipher.open({ ...sealed, tag: '' }, 'x')).toThrow(/authentication tag is not 16 bytes/);
    // A 16-byte tag of the wrong value: does not open.
    const flipped = Buffer.from(tag);
    flipped[15] = flipped[15]! ^ 1;
    expect(() => cipher.open({ ...sealed, tag: flipped.toString('base64') }, 'x')).toThrow(
      /does not open with key "k1"/,
    );
    expect(cipher.open(sealed, 'x')).toBe(PEM);
  });

  it('refuses malformed sealed values with a clear message', () => {
    const cipher = cipherOf(k1);
    const sealed = cipher.seal(PEM, 'x') as SealedSecret;
    expect(() => cipher.open({ ...sealed, iv: Buffer.alloc(16).toString('base64') }, 'x')).toThrow(
      /IV is not 12 bytes/,
    );
    expect(() => cipher.open({ ...sealed, ct: undefined } as unknown as SealedSecret, 'x')).toThrow(/no ciphertext/);
    expect(() => cipher.open({ ...sealed, alg: 'aes-128-gcm' } as unknown as SealedSecret, 'x')).toThrow(
      /unknown algorithm/,
    );
    expect(() => cipher.open({ ...sealed, kid: 'k9' }, 'x')).toThrow(/sealed with key "k9", which is not configured/);
  });

  it.each([
    ['k1', /expected id:base64key/],
    ['bad id!:' + Buffer.alloc(32).toString('base64'), /the id must be/],
    ['short:' + Buffer.alloc(16).toString('base64'), /"short": must be 32 bytes/],
    [`${k1},${k1}`, /every key needs its own id/],
  ])('refuses the key list %s', (text, message) => {
    expect(() => parseEncryptionKeys(text)).toThrow(message);
  });

  it('reads keys from a file (a mounted Secret), one per line or comma-separated', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dcm-keys-'));
    try {
      const file = path.join(dir, 'keys');
      writeFileSync(file, `${k2}\n${k1}\n`);
      expect(loadEncryptionKeys({ DCM_ENCRYPTION_KEYS_FILE: file }).map((k) => k.id)).toEqual(['k2', 'k1']);
      expect(() => loadEncryptionKeys({ DCM_ENCRYPTION_KEYS_FILE: path.join(dir, 'missing') })).toThrow(
        /DCM_ENCRYPTION_KEYS_FILE: cannot read/,
      );
      expect(() => loadEncryptionKeys({ DCM_ENCRYPTION_KEYS: k1, DCM_ENCRYPTION_KEYS_FILE: file })).toThrow(/not both/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to run without a key outside development mode', () => {
    expect(() => createSecretCipher({ DCM_DEVELOPMENT_MODE: false })).toThrow(
      /no encryption key: set DCM_ENCRYPTION_KEYS/,
    );
    expect(createSecretCipher({ DCM_DEVELOPMENT_MODE: true }).encrypts).toBe(false);
    expect(createSecretCipher({ DCM_DEVELOPMENT_MODE: false, DCM_ENCRYPTION_KEYS: k1 }).encrypts).toBe(true);
  });
});
