/**
 * Secrets at rest: admin kubeconfigs, CA keys and tenant private keys are stored sealed with
 * AES-256-GCM. Each sealed value names the key that sealed it (so keys can be rotated: the
 * first configured key seals, every configured key opens) and is bound to what it is the
 * secret of (the `context`, used as additional authenticated data), so a sealed value copied
 * onto another record does not open.
 *
 * Only in the explicit development mode, and only when no key is configured, are values
 * stored unsealed (`alg: 'none'`). With keys configured such a value is refused, never
 * opened nor sealed again: whoever could write it into the database did not need a key to do
 * so, so nothing says the DCM stored it. A sealed value must carry a 12-byte IV and a 16-byte
 * GCM tag (a shorter tag would make forging easier); anything else is refused.
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

export class SecretCipherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretCipherError';
  }
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Strict base64 of exactly `bytes` bytes (Buffer.from would silently skip what is not base64). */
function decodeExact(value: unknown, bytes: number): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(value, 'base64');
  return decoded.length === bytes ? decoded : undefined;
}

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
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      alg: 'aes-256-gcm',
      kid: current.id,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ct: ct.toString('base64'),
    };
  }

  /**
   * The plaintext of a stored value. Throws SecretCipherError (naming the context, never any
   * of the value) for what this DCM did not seal: with keys configured an unsealed value, a
   * value sealed with a key that is not configured, a malformed one (IV not 12 bytes, tag not
   * 16 bytes) and one that does not authenticate (wrong key, tampered value, another context).
   */
  open(stored: StoredSecret, context: string): string {
    const alg = (stored as { alg?: unknown } | null | undefined)?.alg;
    if (alg === 'none') {
      if (this.encrypts) {
        throw new SecretCipherError(
          `secret of ${context} is stored unsealed (alg "none") although encryption keys are configured: refused ` +
            '(with keys configured the DCM opens only what it sealed itself; store the secret again)',
        );
      }
      const { value } = stored as UnsealedSecret;
      if (typeof value !== 'string') throw new SecretCipherError(`secret of ${context} is malformed`);
      return value;
    }
    if (alg !== 'aes-256-gcm') throw new SecretCipherError(`secret of ${context} uses an unknown algorithm`);
    const sealed = stored as SealedSecret;
    const key = typeof sealed.kid === 'string' ? this.byId.get(sealed.kid) : undefined;
    if (!key)
      throw new SecretCipherError(
        `secret of ${context} was sealed with key "${String(sealed.kid)}", which is not configured (DCM_ENCRYPTION_KEYS)`,
      );
    const iv = decodeExact(sealed.iv, IV_BYTES);
    if (!iv)
      throw new SecretCipherError(`secret of ${context} is malformed: its IV is not ${IV_BYTES} bytes of base64`);
    const tag = decodeExact(sealed.tag, TAG_BYTES);
    if (!tag)
      throw new SecretCipherError(
        `secret of ${context} is malformed: its authentication tag is not ${TAG_BYTES} bytes of base64`,
      );
    if (typeof sealed.ct !== 'string')
      throw new SecretCipherError(`secret of ${context} is malformed: it has no ciphertext`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretCipherError(
        `secret of ${context} does not open with key "${sealed.kid}" (wrong key or tampered value)`,
      );
    }
  }

  /**
   * Whether a stored value should be sealed again: sealed by a key that is no longer the
   * current one. Never an unsealed value (with keys configured it is refused, see `open`), so
   * re-sealing at start-up skips it and it fails where it is used, saying why.
   */
  isStale(stored: StoredSecret): boolean {
    if (!this.encrypts) return false;
    return stored.alg === 'aes-256-gcm' && stored.kid !== this.currentKeyId;
  }

  /** Whether `open` refuses the value because it is stored unsealed while keys are configured. */
  refusesUnsealed(stored: StoredSecret): boolean {
    return this.encrypts && stored.alg === 'none';
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
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
      throw new SecretCipherError(`encryption key ${i + 1}: the id must be 1-64 of A-Z a-z 0-9 _ . -`);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== 32)
      throw new SecretCipherError(`encryption key "${id}": must be 32 bytes, base64-encoded (got ${key.length})`);
    return { id, key };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new SecretCipherError('encryption keys: every key needs its own id');
  return keys;
}

/** The configured keys: from DCM_ENCRYPTION_KEYS, or from the file DCM_ENCRYPTION_KEYS_FILE names. */
export function loadEncryptionKeys(config: {
  DCM_ENCRYPTION_KEYS?: string | undefined;
  DCM_ENCRYPTION_KEYS_FILE?: string | undefined;
}): EncryptionKey[] {
  if (config.DCM_ENCRYPTION_KEYS && config.DCM_ENCRYPTION_KEYS_FILE) {
    throw new SecretCipherError('set DCM_ENCRYPTION_KEYS or DCM_ENCRYPTION_KEYS_FILE, not both');
  }
  if (config.DCM_ENCRYPTION_KEYS) return parseEncryptionKeys(config.DCM_ENCRYPTION_KEYS);
  if (config.DCM_ENCRYPTION_KEYS_FILE) {
    let text: string;
    try {
      text = readFileSync(config.DCM_ENCRYPTION_KEYS_FILE, 'utf8');
    } catch (error) {
      throw new SecretCipherError(
        `DCM_ENCRYPTION_KEYS_FILE: cannot read ${config.DCM_ENCRYPTION_KEYS_FILE}: ${(error as Error).message}`,
      );
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
