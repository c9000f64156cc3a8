/** createDcm never assumes development mode: without its `auth` option it fails before anything is built. */
import { describe, expect, it } from '@jest/globals';
import type { Db } from 'mongodb';
import { pino } from 'pino';
import { createDcm, type DcmOptions } from '../../src/composition-root.js';
import { defaultConfig } from '../../src/config.js';
import { generateEncryptionKey, parseEncryptionKeys, SecretCipher } from '../../src/security/secret-cipher.js';

describe('createDcm', () => {
  it('requires its auth option (no silent fallback to development mode)', async () => {
    let touched = false;
    const db = new Proxy({}, { get: () => ((touched = true), () => undefined) }) as unknown as Db;
    const options = {
      db,
      logger: pino({ level: 'silent' }),
      config: defaultConfig(),
      cipher: new SecretCipher(parseEncryptionKeys(generateEncryptionKey('unit'))),
      bodyLimit: '1mb',
      ready: async () => true,
    };
    for (const auth of [undefined, null, {}, { mode: 'open' }]) {
      await expect(createDcm({ ...options, auth } as unknown as DcmOptions)).rejects.toThrow(
        /createDcm: the `auth` option is required/,
      );
    }
    expect(touched).toBe(false);
  });
});
