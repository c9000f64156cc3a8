/** The MongoDB connection. Only the official driver is used, so any MongoDB (or FerretDB) serves. */
import { MongoClient, MongoServerError, type Db } from 'mongodb';

/** The database handle the composition root gives the stores (only stores and src/db/ import `mongodb`). */
export type { Db } from 'mongodb';

export interface Database {
  client: MongoClient;
  db: Db;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Connects, trying again for up to `waitMs` while the server cannot be reached (a database
 * that starts together with the DCM, e.g. the Helm chart's bundled MongoDB).
 */
export async function connectDatabase(
  url: string,
  name: string,
  opts: { waitMs?: number; onRetry?: (error: Error, attempt: number) => void } = {},
): Promise<Database> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let client: MongoClient;
  for (let attempt = 1; ; attempt++) {
    client = new MongoClient(url, {
      serverSelectionTimeoutMS: 5_000,
      appName: 'dcm',
    });
    try {
      await client.connect();
      break;
    } catch (error) {
      await client.close().catch(() => undefined);
      if (Date.now() >= deadline) throw error;
      opts.onRetry?.(error as Error, attempt);
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * attempt, 5000)));
    }
  }
  const db = client.db(name);
  return {
    client,
    db,
    ping: () =>
      db
        .command({ ping: 1 }, { timeoutMS: 2000 })
        .then(() => true)
        .catch(() => false),
    close: () => client.close(),
  };
}

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}
