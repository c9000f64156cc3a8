/** The one check of a private key the DCM is given inline (a registered kubeconfig's client key, an uploaded key). */
import { createPrivateKey } from 'node:crypto';

const PEM_PRIVATE_KEY_ONLY =
  /^\s*-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1-----\s*$/;

/** Why `text` is not one inline, unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1), or undefined when it is. Never quotes the text. */
export function privateKeyPemProblem(text: unknown): string | undefined {
  if (typeof text !== 'string' || !PEM_PRIVATE_KEY_ONLY.test(text)) {
    return 'must be one inline PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted) and nothing else';
  }
  try {
    createPrivateKey({ key: text, format: 'pem' });
  } catch {
    return 'is not a readable PEM private key';
  }
  return undefined;
}
