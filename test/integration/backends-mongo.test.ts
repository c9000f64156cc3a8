/** The MongoDB-protocol test server is real: the official driver talks to it over TCP. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';

describe('MongoDB-protocol test backend', () => {
  let client: MongoClient;
  let things: Collection<{ name: string; count: number }>;

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUrl());
    things = client.db(uniqueDatabaseName('smoke')).collection('things');
    await things.createIndex({ name: 1 }, { unique: true });
  });

  afterAll(async () => {
    await client.db(things.dbName).dropDatabase();
    await client.close();
  });

  it('inserts and finds a document', async () => {
    await things.insertOne({ name: 'a', count: 1 });
    const found = await things.findOne({ name: 'a' }, { projection: { _id: 0 } });
    expect(found).toEqual({ name: 'a', count: 1 });
  });

  it('rejects a duplicate key of a unique index with code 11000', async () => {
    await things.insertOne({ name: 'dup', count: 1 });
    const error = await things.insertOne({ name: 'dup', count: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
    expect(await things.countDocuments({ name: 'dup' })).toBe(1);
  });

  it('updates with findOneAndUpdate and returns the document before or after', async () => {
    await things.insertOne({ name: 'counter', count: 0 });
    const before = await things.findOneAndUpdate(
      { name: 'counter' },
      { $inc: { count: 5 } },
      { returnDocument: 'before' },
    );
    expect(before?.count).toBe(0);
    const after = await things.findOneAndUpdate(
      { name: 'counter' },
      { $inc: { count: 1 } },
      { returnDocument: 'after' },
    );
    expect(after?.count).toBe(6);
    const missing = await things.findOneAndUpdate({ name: 'nobody' }, { $inc: { count: 1 } });
    expect(missing).toBeNull();
  });
});
