/**
 * The tenant's credentials of each logical cloud: one credential generation at a time, with
 * its private key (generated once per generation, never per cluster, stored sealed; collection
 * `userCredentials`) and the certificate each cluster issued for it (one document per (logical
 * cloud, cluster reference), collection `tenantCertificates`, each written by a single upsert).
 * A new generation (revocation, or the first apply after a terminate, which forgets the
 * credentials) has a new random id: RBAC binds the group named after it, so the certificates of
 * every earlier generation grant nothing.
 *
 * Credentials stored before per-reference documents existed keep their certificates in a
 * `certificates` array of the key's document: read as they are (a per-reference document of the
 * same reference wins), and moved into per-reference documents when the next apply prepares its
 * generation.
 */
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { SecretCipher, StoredSecret } from '../../security/secret-cipher.js';
import {
  renewalTime,
  type CredentialGeneration,
  type Credentials,
  type IssuedCertificate,
} from '../../domain/tenant-credentials.js';

export type { CredentialGeneration, Credentials, IssuedCertificate } from '../../domain/tenant-credentials.js';
export { renewalTime } from '../../domain/tenant-credentials.js';

interface CredentialsDocument {
  _id: string;
  privateKey: StoredSecret;
  keyBits: number;
  /** Only on documents stored before per-reference certificate documents. */
  certificates?: IssuedCertificate[];
  /** 1, 2, … within the document's life; absent on documents from before generations (then replaced at the next apply). */
  generation?: number;
  generationId?: string;
}

/** A new generation's id: random, so that no generation of any logical cloud is ever named again. */
export const newGenerationId = (): string => randomBytes(6).toString('hex');

/** One reference's certificate: `_id` is `${logicalCloudId}/${reference}`. */
type CertificateDocument = IssuedCertificate & { _id: string; logicalCloudId: string };

const certificateId = (logicalCloudId: string, reference: string) => `${logicalCloudId}/${reference}`;

export class CredentialsStore {
  private readonly collection: Collection<CredentialsDocument>;
  private readonly certificates: Collection<CertificateDocument>;

  constructor(
    db: Db,
    private readonly cipher: SecretCipher,
  ) {
    this.collection = db.collection<CredentialsDocument>('userCredentials');
    this.certificates = db.collection<CertificateDocument>('tenantCertificates');
  }

  async init(): Promise<void> {
    // userCredentials: _id is the logical cloud's id, unique by construction.
    await this.certificates.createIndex({ logicalCloudId: 1 }, { name: 'logical_cloud' });
  }

  /**
   * The nearest `notAfter` of any stored tenant certificate (for /metrics): one document per
   * (logical cloud, reference), and arrays of certificates stored before those existed.
   */
  async nearestExpiry(): Promise<Date | undefined> {
    const [stored, legacy] = await Promise.all([
      this.certificates.find({}, { projection: { notAfter: 1 } }).toArray(),
      this.collection
        .find({ certificates: { $exists: true } }, { projection: { 'certificates.notAfter': 1 } })
        .toArray(),
    ]);
    let nearest: Date | undefined;
    for (const c of [...stored, ...legacy.flatMap((doc) => doc.certificates ?? [])]) {
      if (!nearest || c.notAfter < nearest) nearest = c.notAfter;
    }
    return nearest;
  }

  async get(logicalCloudId: string): Promise<Credentials | null> {
    const doc = await this.collection.findOne({ _id: logicalCloudId });
    if (!doc) return null;
    return {
      logicalCloudId,
      privateKey: this.cipher.open(doc.privateKey, keyContext(logicalCloudId)),
      keyBits: doc.keyBits,
      certificates: await this.certificatesOf(doc),
      ...(doc.generationId !== undefined ? { generation: doc.generation ?? 1, generationId: doc.generationId } : {}),
    };
  }

  /** Logical clouds with a certificate two thirds into its lifetime at `now`: due for renewal. */
  async dueForRenewal(now: Date): Promise<string[]> {
    const due = (c: Pick<IssuedCertificate, 'notBefore' | 'notAfter'>) => renewalTime(c).getTime() <= now.getTime();
    const [stored, legacy] = await Promise.all([
      this.certificates.find({}, { projection: { logicalCloudId: 1, notBefore: 1, notAfter: 1 } }).toArray(),
      this.collection
        .find(
          { certificates: { $exists: true } },
          { projection: { 'certificates.notBefore': 1, 'certificates.notAfter': 1 } },
        )
        .toArray(),
    ]);
    const ids = new Set(stored.filter(due).map((c) => c.logicalCloudId));
    for (const doc of legacy) if ((doc.certificates ?? []).some(due)) ids.add(doc._id);
    return [...ids];
  }

  /** The generation and the certificates' validity, without opening the key (status). */
  async summary(
    logicalCloudId: string,
  ): Promise<(Partial<CredentialGeneration> & { certificates: Omit<IssuedCertificate, 'certificate'>[] }) | null> {
    const doc = await this.collection.findOne({ _id: logicalCloudId }, { projection: { privateKey: 0 } });
    if (!doc) return null;
    return {
      ...(doc.generationId !== undefined ? { generation: doc.generation ?? 1, generationId: doc.generationId } : {}),
      certificates: (await this.certificatesOf(doc)).map(({ reference, notAfter, signedBy }) => ({
        reference,
        notAfter,
        signedBy,
      })),
    };
  }

  /**
   * The credential generation an apply works with: the current one, unless `wanted` names
   * another (a revocation) or there is none (first apply, after a terminate, or a document
   * from before generations): then a new generation with a new key and no certificates
   * replaces the old one. Called once per apply, by the replica holding the logical cloud's
   * lease; asking again for the same `wanted` (a resumed operation) changes nothing.
   */
  async prepareGeneration(
    logicalCloudId: string,
    keyBits: number,
    generate: () => Promise<string>,
    wanted?: string,
  ): Promise<CredentialGeneration> {
    const current = await this.collection.findOne(
      { _id: logicalCloudId },
      { projection: { generation: 1, generationId: 1, certificates: 1 } },
    );
    if (current?.generationId !== undefined && (wanted === undefined || wanted === current.generationId)) {
      if (current.certificates) await this.moveStoredArray(logicalCloudId, current.certificates);
      return { generation: current.generation ?? 1, generationId: current.generationId };
    }
    const next: CredentialGeneration = {
      generation: (current?.generation ?? 0) + 1,
      generationId: wanted ?? newGenerationId(),
    };
    const privateKey = await generate();
    // The earlier generation's certificates go first: none of them is ever read with the new key.
    await this.certificates.deleteMany({ logicalCloudId });
    await this.collection.replaceOne(
      { _id: logicalCloudId },
      { privateKey: this.cipher.seal(privateKey, keyContext(logicalCloudId)), keyBits, ...next },
      { upsert: true },
    );
    return next;
  }

  /** Seals again, under the current key, every private key sealed under an older key (or unsealed). */
  async resealKeys(): Promise<number> {
    let resealed = 0;
    for (const doc of await this.collection.find({}, { projection: { privateKey: 1 } }).toArray()) {
      if (!this.cipher.isStale(doc.privateKey)) continue;
      const context = keyContext(doc._id);
      const next = this.cipher.seal(this.cipher.open(doc.privateKey, context), context);
      const result = await this.collection.updateOne(
        { _id: doc._id, privateKey: doc.privateKey },
        { $set: { privateKey: next } },
      );
      resealed += result.modifiedCount;
    }
    return resealed;
  }

  /** Stores the reference's certificate (a single upsert, replacing its previous one). */
  async putCertificate(logicalCloudId: string, issued: IssuedCertificate): Promise<void> {
    await this.certificates.replaceOne(
      { _id: certificateId(logicalCloudId, issued.reference) },
      { ...issued, logicalCloudId },
      { upsert: true },
    );
  }

  async removeCertificate(logicalCloudId: string, reference: string): Promise<void> {
    await this.certificates.deleteOne({ _id: certificateId(logicalCloudId, reference) });
  }

  async delete(logicalCloudId: string): Promise<void> {
    await this.certificates.deleteMany({ logicalCloudId });
    await this.collection.deleteOne({ _id: logicalCloudId });
  }

  /** The certificates of the generation: per-reference documents, over an array stored in the old shape. */
  private async certificatesOf(doc: CredentialsDocument): Promise<IssuedCertificate[]> {
    const byReference = new Map((doc.certificates ?? []).map((c) => [c.reference, c]));
    for (const { _id, logicalCloudId: _lc, ...issued } of await this.certificates
      .find({ logicalCloudId: doc._id })
      .toArray()) {
      byReference.set(issued.reference, issued);
    }
    return [...byReference.values()].sort((a, b) => a.reference.localeCompare(b.reference));
  }

  /** Moves certificates stored in the old shape into per-reference documents (a newer document of a reference wins). */
  private async moveStoredArray(logicalCloudId: string, stored: IssuedCertificate[]): Promise<void> {
    for (const issued of stored) {
      await this.certificates
        .insertOne({ ...issued, _id: certificateId(logicalCloudId, issued.reference), logicalCloudId })
        .catch((error: unknown) => {
          if (!isDuplicateKeyError(error)) throw error;
        });
    }
    await this.collection.updateOne({ _id: logicalCloudId }, { $unset: { certificates: '' } });
  }
}

const keyContext = (logicalCloudId: string) => `logical-cloud/${logicalCloudId}/private-key`;
