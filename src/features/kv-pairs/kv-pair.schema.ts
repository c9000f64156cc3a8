/** Key-value pairs as the APIs take them (a list of single-key objects, bounded) and show them. */
import { z } from 'zod';
import type { KvPairRecord } from '../../domain/logical-cloud.js';
import { atMost, boundedRecord, LIMITS } from '../../validation/limits.js';
import { MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema } from '../metadata.js';

const KvValueSchema = z.union([
  z.string().max(LIMITS.kvValueLength, atMost(LIMITS.kvValueLength, 'characters')),
  z.number(),
  z.boolean(),
  z.null(),
]);

const ONE_KEY = 'each entry is an object with exactly one key, e.g. {"key1": "val1"}';

/** One entry: its single key (checked before anything else) and its value. */
const KvEntry = boundedRecord(KvValueSchema, 1, 'key per entry, e.g. {"key1": "val1"}', LIMITS.kvKeyLength)
  .refine((entry) => Object.keys(entry).length === 1, { message: ONE_KEY })
  .refine((entry) => !Object.hasOwn(entry, ''), { message: 'a key is not empty' })
  .meta({
    minProperties: 1,
    maxProperties: 1,
    propertyNames: { type: 'string', minLength: 1, maxLength: LIMITS.kvKeyLength },
  });

/** The design's list of single-key objects: `[{"key1": "val1"}, {"key2": "val2"}]`; a key appears once. Bounded (LIMITS). */
const KvList = z
  .array(KvEntry)
  .max(LIMITS.kvEntries, atMost(LIMITS.kvEntries, 'entries'))
  .superRefine((entries, ctx) => {
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      for (const key of Object.keys(entry)) {
        if (seen.has(key))
          ctx.addIssue({ code: 'custom', path: [i, key], message: `key ${key} appears more than once` });
        seen.add(key);
      }
    });
  })
  .meta({ description: 'single-key objects; a key appears in one entry only' });

const KvSpec = z.strictObject({ kv: KvList });

export const KvPairCreateSchema = z.strictObject({ metadata: MetadataSchema, spec: KvSpec });
export const KvPairUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema.optional(), spec: KvSpec });

export type KvPairInput = z.infer<typeof KvPairUpdateSchema>;

/** A kv pair's body. */
export const KvPairView = z.strictObject({
  metadata: MetadataView,
  spec: z.strictObject({ kv: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))) }),
});

export const kvPairView = (r: KvPairRecord) => ({
  metadata: metadataView(r.name, r.data),
  spec: { kv: r.data.kv.map(({ key, value }) => ({ [key]: value })) },
});
