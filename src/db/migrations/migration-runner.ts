/**
 * Start-up migrations of stored documents: each runs once per database, by one replica at a
 * time (under a lease in `migrationLeases`), and is recorded as done in `migrations`. A migration
 * must be idempotent and resumable: a replica that dies half-way leaves its lease to expire, and
 * the next one runs the migration again over what is left. Replicas that find the lease taken
 * wait until the migration is recorded as done (or the lease is free again, and take it).
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { LeaseStore } from '../lease-store.js';
import { isDuplicateKeyError } from '../mongo.js';

export interface Migration {
  /** Unique and stable: the `_id` of its record in `migrations`. */
  name: string;
  /** Does the work; calls `stillHeld` between batches and stops when it answers false. */
  run(db: Db, stillHeld: () => Promise<boolean>): Promise<void>;
}

export interface MigrationOptions {
  leaseTtlMs?: number;
  /** How long to wait for another replica's run before giving up (start-up fails). */
  waitMs?: number;
  pollMs?: number;
  /** Told each time this replica waits for another's run (tests). */
  onWait?: () => void;
}

const MIGRATIONS = 'migrations';

export async function migrationDone(db: Db, name: string): Promise<boolean> {
  return (await db.collection<{ _id: string }>(MIGRATIONS).findOne({ _id: name })) !== null;
}

export async function runMigration(db: Db, migration: Migration, opts: MigrationOptions = {}): Promise<void> {
  const { leaseTtlMs = 30_000, waitMs = 10 * 60_000, pollMs = 250 } = opts;
  const done = db.collection<{ _id: string; at: Date }>(MIGRATIONS);
  const leases = new LeaseStore(db, 'migrationLeases');
  const holder = randomUUID();
  const leaseId = `migration:${migration.name}`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await migrationDone(db, migration.name)) return;
    if (await leases.acquire(leaseId, holder, leaseTtlMs)) break;
    if (Date.now() > deadline) throw new Error(`migration ${migration.name}: another replica holds it for too long`);
    opts.onWait?.();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  try {
    if (await migrationDone(db, migration.name)) return;
    let lost = false;
    await migration.run(db, async () => {
      lost ||= !(await leases.renew(leaseId, holder, leaseTtlMs));
      return !lost;
    });
    if (lost) throw new Error(`migration ${migration.name}: lease lost; another replica carries on`);
    await done.insertOne({ _id: migration.name, at: new Date() }).catch((error: unknown) => {
      if (!isDuplicateKeyError(error)) throw error;
    });
  } finally {
    await leases.release(leaseId, holder);
  }
}
