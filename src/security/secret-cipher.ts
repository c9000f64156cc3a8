/**
 * Secrets at rest: admin kubeconfigs, CA keys and tenant private keys are stored sealed with
 * AES-256-GCM. Each sealed value names the key that sealed it (so keys can be rotated: the
 * first configured key seals, every configured key opens) and is bound to what it is the
 * secret of (the `context`, used as additional authenticated data), so a sealed value copied
 * onto another record does not open.
 *
 * Only in the explicit development mode, and only when no key is configured, are values
 * stored unsealed (`alg: 'none'`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface SealedSecret {
  alg: 'aes-256-gcm';
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

/** A value stored in clear: development mode without a key only. */
export interface UnsealedSecret {
  alg: 'none';
  value: string;
}

export type StoredSecret = SealedSecret | UnsealedSecret;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export class SecretCipherError extends Error {}

export class SecretCipher {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: EncryptionKey[]) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** Whether values are sealed (false only in development mode without a key). */
  get encrypts(): boolean {
    return this.keys.length > 0;
  }

  /** The id of the key that seals new values. */
  get currentKeyId(): string | undefined {
    return this.keys[0]?.id;
  }

  seal(plaintext: string, context: string): StoredSecret {
    const current = this.keys[0];
    if (!current) return { alg: 'none', value: plaintext };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { alg: 'aes-256-gcm', kid: current.id, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
  }

  open(stored: StoredSecret, context: string): string {
    if (stored.alg === 'none') return stored.value;
    if (stored.alg !== 'aes-256-gcm') throw new SecretCipherError(`secret of ${context} uses an unknown algorithm`);
    const key = this.byId.get(stored.kid);
    if (!key) throw new SecretCipherError(`secret of ${context} was sealed with key "${stored.kid}", which is not configured (DCM_ENCRYPTION_KEYS)`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(stored.ct, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretCipherError(`secret of ${context} does not open with key "${stored.kid}" (wrong key or tampered value)`);
    }
  }

  /** Whether a stored value should be sealed again (unsealed, or sealed by a key that is no longer the current one). */
  isStale(stored: StoredSecret): boolean {
    if (!this.encrypts) return false;
    return stored.alg === 'none' || stored.kid !== this.currentKeyId;
  }
}

/** Parses `id:base64key[,id:base64key…]`; every key must be 32 bytes. */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  const keys = entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new SecretCipherError(`encryption key ${i + 1}: expected id:base64key`);
    const id = entry.slice(0, colon);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new SecretCipherError(`encryption key ${i + 1}: the id must be 1-64 of A-Z a-z 0-9 _ . -`);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== 32) throw new SecretCipherError(`encryption key "${id}": must be 32 bytes, base64-encoded (got ${key.length})`);
    return { id, key };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new SecretCipherError('encryption keys: every key needs its own id');
  return keys;
}

/** The configured keys: from DCM_ENCRYPTION_KEYS, or from the file DCM_ENCRYPTION_KEYS_FILE names. */
export function loadEncryptionKeys(config: { DCM_ENCRYPTION_KEYS?: string | undefined; DCM_ENCRYPTION_KEYS_FILE?: string | undefined }): EncryptionKey[] {
  if (config.DCM_ENCRYPTION_KEYS && config.DCM_ENCRYPTION_KEYS_FILE) {
    throw new SecretCipherError('set DCM_ENCRYPTION_KEYS or DCM_ENCRYPTION_KEYS_FILE, not both');
  }
  if (config.DCM_ENCRYPTION_KEYS) return parseEncryptionKeys(config.DCM_ENCRYPTION_KEYS);
  if (config.DCM_ENCRYPTION_KEYS_FILE) {
    let text: string;
    try {
      text = readFileSync(config.DCM_ENCRYPTION_KEYS_FILE, 'utf8');
    } catch (error) {
      throw new SecretCipherError(`DCM_ENCRYPTION_KEYS_FILE: cannot read ${config.DCM_ENCRYPTION_KEYS_FILE}: ${(error as Error).message}`);
    }
    return parseEncryptionKeys(text);
  }
  return [];
}

/** The cipher for a configuration; refuses to run without a key unless in development mode. */
export function createSecretCipher(config: {
  DCM_DEVELOPMENT_MODE: boolean;
  DCM_ENCRYPTION_KEYS?: string | undefined;
  DCM_ENCRYPTION_KEYS_FILE?: string | undefined;
}): SecretCipher {
  const keys = loadEncryptionKeys(config);
  if (keys.length === 0 && !config.DCM_DEVELOPMENT_MODE) {
    throw new SecretCipherError(
      'no encryption key: set DCM_ENCRYPTION_KEYS (or DCM_ENCRYPTION_KEYS_FILE) to id:base64(32 random bytes), e.g. ' +
        '"k1:$(openssl rand -base64 32)"; only DCM_DEVELOPMENT_MODE=true runs without one',
    );
  }
  return new SecretCipher(keys);
}

/** A fresh random key in the configuration format (tests, first set-up). */
export function generateEncryptionKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
