/**
 * The DCM's own root CA, generated once per database and kept in `caRoot` as one document
 * with a fixed `_id`: its certificate, and its private key sealed with the SecretCipher.
 *
 * Several replicas may start at once on an empty database: each generates a candidate and
 * inserts it under the fixed `_id`; the unique `_id` lets exactly one insert succeed and
 * every other replica reads (and uses) the winner's root. Nothing relies on a server
 * serializing read-modify-write (FerretDB v1 does not).
 */
import type { Collection, Db } from 'mongodb';
import type { CaKeyPair } from '../../certificates/certificate-authority/ca-certificate-builder.js';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { SecretCipher, StoredSecret } from '../../security/secret-cipher.js';

export const ROOT_ID = 'root';

interface RootCaDocument {
  _id: typeof ROOT_ID;
  certificate: string;
  privateKey: StoredSecret;
  createdAt: Date;
  /** The replica that generated it (diagnostics). */
  createdBy: string;
}

/** What the sealed root key is bound to: a sealed value copied elsewhere does not open. */
const KEY_CONTEXT = 'dcm-ca/root/private-key';

export class RootCaStore {
  private readonly collection: Collection<RootCaDocument>;

  constructor(
    db: Db,
    private readonly cipher: SecretCipher,
  ) {
    this.collection = db.collection<RootCaDocument>('caRoot');
  }

  async init(): Promise<void> {
    // One document with a fixed _id: unique by construction.
  }

  async get(): Promise<(CaKeyPair & { createdAt: Date }) | null> {
    const doc = await this.collection.findOne({ _id: ROOT_ID });
    if (!doc) return null;
    return {
      certificatePem: doc.certificate,
      keyPem: this.cipher.open(doc.privateKey, KEY_CONTEXT),
      createdAt: doc.createdAt,
    };
  }

  /** Seals the root key again under the current encryption key, when it was sealed with another one (or not at all). */
  async resealKeys(): Promise<number> {
    const doc = await this.collection.findOne({ _id: ROOT_ID }, { projection: { privateKey: 1 } });
    if (!doc || !this.cipher.isStale(doc.privateKey)) return 0;
    const next = this.cipher.seal(this.cipher.open(doc.privateKey, KEY_CONTEXT), KEY_CONTEXT);
    return (
      await this.collection.updateOne({ _id: ROOT_ID, privateKey: doc.privateKey }, { $set: { privateKey: next } })
    ).modifiedCount;
  }

  /** The stored root, or `generate()`'s, stored by whichever replica inserts first. */
  async ensure(generate: () => Promise<CaKeyPair>, replica: string): Promise<CaKeyPair & { created: boolean }> {
    const existing = await this.get();
    if (existing) return { certificatePem: existing.certificatePem, keyPem: existing.keyPem, created: false };
    const candidate = await generate();
    try {
      await this.collection.insertOne({
        _id: ROOT_ID,
        certificate: candidate.certificatePem,
        privateKey: this.cipher.seal(candidate.keyPem, KEY_CONTEXT),
        createdAt: new Date(),
        createdBy: replica,
      });
      return { ...candidate, created: true };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const winner = (await this.get())!;
      return { certificatePem: winner.certificatePem, keyPem: winner.keyPem, created: false };
    }
  }
}
