/** The MongoDB connection. Only the official driver is used, so any MongoDB (or FerretDB) serves. */
import { MongoClient, MongoServerError, type Db } from 'mongodb';

export interface Database {
  client: MongoClient;
  db: Db;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function connectDatabase(url: string, name: string): Promise<Database> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 10_000,
    appName: 'dcm',
  });
  await client.connect();
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
