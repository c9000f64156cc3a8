/**
 * The tenant's credentials of each logical cloud: one private key (generated once, never
 * per cluster, stored sealed) and the certificate each cluster issued for it.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '../../db/mongo.js';
import { CoalescingWriter } from './coalescing-writer.js';
import type { SecretCipher, StoredSecret } from '../../security/secret-cipher.js';

export interface IssuedCertificate {
  reference: string;
  certificate: string;
  notAfter: Date;
  signedBy: 'cluster' | 'dcm-with-cluster-ca';
}

interface CredentialsDocument {
  _id: string;
  privateKey: StoredSecret;
  keyBits: number;
  certificates: IssuedCertificate[];
}

/** A logical cloud's credentials with the private key opened. */
export interface Credentials {
  logicalCloudId: string;
  privateKey: string;
  keyBits: number;
  certificates: IssuedCertificate[];
}

export class CredentialsStore {
  private readonly collection: Collection<CredentialsDocument>;
  /**
   * Certificate changes of a logical cloud (a reference's new certificate, or none): its
   * clusters are worked concurrently, and FerretDB loses one of two concurrent updates of the
   * same document, so they are written one write at a time, coalesced.
   */
  private readonly certificateWrites = new CoalescingWriter<{ reference: string; issued?: IssuedCertificate }>((logicalCloudId, changes) =>
    this.writeCertificates(logicalCloudId, changes),
  );
  /** Keys being loaded or generated, by logical cloud. */
  private readonly pendingKeys = new Map<string, Promise<string>>();

  constructor(
    db: Db,
    private readonly cipher: SecretCipher,
  ) {
    this.collection = db.collection<CredentialsDocument>('userCredentials');
  }

  async init(): Promise<void> {
    // _id is the logical cloud's id: unique by construction.
  }

  async get(logicalCloudId: string): Promise<Credentials | null> {
    const doc = await this.collection.findOne({ _id: logicalCloudId });
    if (!doc) return null;
    return {
      logicalCloudId,
      privateKey: this.cipher.open(doc.privateKey, keyContext(logicalCloudId)),
      keyBits: doc.keyBits,
      certificates: doc.certificates,
    };
  }

  /**
   * The logical cloud's key: the stored one, or `generate()`'s, stored by whoever inserts
   * first. The clusters of one apply ask at the same time: they share one generation (an
   * RSA key costs hundreds of milliseconds of CPU) instead of each making one to throw away.
   */
  ensureKey(logicalCloudId: string, keyBits: number, generate: () => Promise<string>): Promise<string> {
    const pending = this.pendingKeys.get(logicalCloudId);
    if (pending) return pending;
    const key = this.loadOrCreateKey(logicalCloudId, keyBits, generate).finally(() => this.pendingKeys.delete(logicalCloudId));
    this.pendingKeys.set(logicalCloudId, key);
    return key;
  }

  private async loadOrCreateKey(logicalCloudId: string, keyBits: number, generate: () => Promise<string>): Promise<string> {
    const existing = await this.get(logicalCloudId);
    if (existing) return existing.privateKey;
    const privateKey = await generate();
    try {
      await this.collection.insertOne({ _id: logicalCloudId, privateKey: this.cipher.seal(privateKey, keyContext(logicalCloudId)), keyBits, certificates: [] });
      return privateKey;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return (await this.get(logicalCloudId))!.privateKey;
    }
  }

  /** Seals again, under the current key, every private key sealed under an older key (or unsealed). */
  async resealKeys(): Promise<number> {
    let resealed = 0;
    for (const doc of await this.collection.find({}, { projection: { privateKey: 1 } }).toArray()) {
      if (!this.cipher.isStale(doc.privateKey)) continue;
      const context = keyContext(doc._id);
      const next = this.cipher.seal(this.cipher.open(doc.privateKey, context), context);
      const result = await this.collection.updateOne({ _id: doc._id, privateKey: doc.privateKey }, { $set: { privateKey: next } });
      resealed += result.modifiedCount;
    }
    return resealed;
  }

  putCertificate(logicalCloudId: string, issued: IssuedCertificate): Promise<void> {
    return this.certificateWrites.write(logicalCloudId, issued.reference, { reference: issued.reference, issued });
  }

  removeCertificate(logicalCloudId: string, reference: string): Promise<void> {
    return this.certificateWrites.write(logicalCloudId, reference, { reference });
  }

  /** Replaces (or removes) the certificates of the changed references in one write. */
  private async writeCertificates(logicalCloudId: string, changes: { reference: string; issued?: IssuedCertificate }[]): Promise<void> {
    const stored = (await this.collection.findOne({ _id: logicalCloudId }, { projection: { certificates: 1 } }))?.certificates;
    if (!stored) return;
    const changed = new Set(changes.map((c) => c.reference));
    const certificates = [...stored.filter((c) => !changed.has(c.reference)), ...changes.flatMap((c) => (c.issued ? [c.issued] : []))];
    await this.collection.updateOne({ _id: logicalCloudId }, { $set: { certificates } });
  }

  async delete(logicalCloudId: string): Promise<void> {
    await this.collection.deleteOne({ _id: logicalCloudId });
  }
}

const keyContext = (logicalCloudId: string) => `logical-cloud/${logicalCloudId}/private-key`;
