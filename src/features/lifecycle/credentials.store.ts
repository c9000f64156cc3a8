/**
 * The tenant's credentials of each logical cloud: one credential generation at a time, with
 * its private key (generated once per generation, never per cluster, stored sealed) and the
 * certificate each cluster issued for it. A new generation (revocation, or the first apply
 * after a terminate, which forgets the credentials) has a new random id: RBAC binds the
 * group named after it, so the certificates of every earlier generation grant nothing.
 */
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { CoalescingWriter } from './coalescing-writer.js';
import type { SecretCipher, StoredSecret } from '../../security/secret-cipher.js';

export interface IssuedCertificate {
  reference: string;
  certificate: string;
  /** Absent on certificates stored before renewal existed (their renewal is judged from a year's lifetime). */
  notBefore?: Date;
  notAfter: Date;
  signedBy: 'cluster' | 'dcm-with-cluster-ca';
}

interface CredentialsDocument {
  _id: string;
  privateKey: StoredSecret;
  keyBits: number;
  certificates: IssuedCertificate[];
  /** 1, 2, … within the document's life; absent on documents from before generations (then replaced at the next apply). */
  generation?: number;
  generationId?: string;
}

export interface CredentialGeneration {
  generation: number;
  generationId: string;
}

/** A logical cloud's credentials with the private key opened. */
export interface Credentials extends Partial<CredentialGeneration> {
  logicalCloudId: string;
  privateKey: string;
  keyBits: number;
  certificates: IssuedCertificate[];
}

/** A new generation's id: random, so that no generation of any logical cloud is ever named again. */
export const newGenerationId = (): string => randomBytes(6).toString('hex');

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
      ...(doc.generationId !== undefined ? { generation: doc.generation ?? 1, generationId: doc.generationId } : {}),
    };
  }

  /** Logical clouds with a certificate two thirds into its lifetime at `now`: due for renewal. */
  async dueForRenewal(now: Date): Promise<string[]> {
    const docs = await this.collection.find({}, { projection: { 'certificates.notBefore': 1, 'certificates.notAfter': 1 } }).toArray();
    return docs.filter((doc) => doc.certificates.some((c) => renewalTime(c).getTime() <= now.getTime())).map((doc) => doc._id);
  }

  /** The generation and the certificates' validity, without opening the key (status). */
  async summary(logicalCloudId: string): Promise<(Partial<CredentialGeneration> & { certificates: Omit<IssuedCertificate, 'certificate'>[] }) | null> {
    const doc = await this.collection.findOne({ _id: logicalCloudId }, { projection: { privateKey: 0 } });
    if (!doc) return null;
    return {
      ...(doc.generationId !== undefined ? { generation: doc.generation ?? 1, generationId: doc.generationId } : {}),
      certificates: doc.certificates.map(({ reference, notAfter, signedBy }) => ({ reference, notAfter, signedBy })),
    };
  }

  /**
   * The credential generation an apply works with: the current one, unless `wanted` names
   * another (a revocation) or there is none (first apply, after a terminate, or a document
   * from before generations): then a new generation with a new key and no certificates
   * replaces the old one. Called once per apply, by the replica holding the logical cloud's
   * lease; asking again for the same `wanted` (a resumed operation) changes nothing.
   */
  async prepareGeneration(logicalCloudId: string, keyBits: number, generate: () => Promise<string>, wanted?: string): Promise<CredentialGeneration> {
    const current = await this.collection.findOne({ _id: logicalCloudId }, { projection: { generation: 1, generationId: 1 } });
    if (current?.generationId !== undefined && (wanted === undefined || wanted === current.generationId)) {
      return { generation: current.generation ?? 1, generationId: current.generationId };
    }
    const next: CredentialGeneration = { generation: (current?.generation ?? 0) + 1, generationId: wanted ?? newGenerationId() };
    const privateKey = await generate();
    await this.collection.replaceOne(
      { _id: logicalCloudId },
      { privateKey: this.cipher.seal(privateKey, keyContext(logicalCloudId)), keyBits, certificates: [], ...next },
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

/** When a certificate is to be renewed: two thirds into its actual lifetime. */
export function renewalTime(c: Pick<IssuedCertificate, 'notBefore' | 'notAfter'>): Date {
  const notAfter = c.notAfter.getTime();
  const notBefore = c.notBefore?.getTime() ?? notAfter - 365 * 24 * 3600 * 1000;
  return new Date(notBefore + ((notAfter - notBefore) * 2) / 3);
}
