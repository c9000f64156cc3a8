/** An overall quota (one budget across all of a logical cloud's clusters) as the APIs take it and show it. */
import { z } from 'zod';
import { mapToPairs, pairsToMap, type KeyValue, type StoredRecord } from '../../db/named-record-store.js';
import type { Described } from '../../domain/records.js';
import { LIMITS } from '../../validation/limits.js';
import { normalizeQuotaKey } from '../../validation/quota-key.js';
import { quotaSpec } from '../../validation/quota-spec.js';
import { resourceName } from '../../validation/record-metadata.js';
import { MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema } from '../metadata.js';
import { fromMilli, toMilli } from './milli-quantity.js';

export const ASSIGNMENTS = ['dynamic', 'static'] as const;
export type Assignment = (typeof ASSIGNMENTS)[number];

const StaticShare = z.strictObject({ 'cluster-reference': resourceName, hard: quotaSpec });

const OverallQuotaSpec = z
  .strictObject({
    hard: quotaSpec,
    assignment: z.enum(ASSIGNMENTS, { message: 'assignment is "dynamic" or "static"' }).optional(),
    static: z
      .array(StaticShare)
      .max(LIMITS.policyClusters, `at most ${LIMITS.policyClusters} shares`)
      .optional()
      .meta({ description: 'static only: each cluster reference\'s share ("hard" of that cluster)' }),
    reserve: quotaSpec
      .optional()
      .meta({ description: 'dynamic only: headroom kept on every cluster even when unused (for failover)' }),
  })
  .superRefine((spec, ctx) => {
    const hard = new Map(Object.entries(spec.hard).map(([k, v]) => [normalizeQuotaKey(k), toMilli(v) ?? 0n]));
    const notInHard = (map: Record<string, string>, path: (string | number)[]) => {
      for (const key of Object.keys(map))
        if (!hard.has(normalizeQuotaKey(key)))
          ctx.addIssue({
            code: 'custom',
            path: [...path, key],
            message: `${JSON.stringify(key)} is not a key of hard`,
          });
    };
    const assignment = spec.assignment ?? 'dynamic';
    if (assignment === 'static') {
      if (spec.reserve)
        ctx.addIssue({ code: 'custom', path: ['reserve'], message: 'reserve is for dynamic assignment only' });
      if (!spec.static) {
        ctx.addIssue({
          code: 'custom',
          path: ['static'],
          message: "static assignment lists each cluster reference's share",
        });
        return;
      }
      const sums = new Map<string, bigint>();
      const seen = new Set<string>();
      spec.static.forEach((share, i) => {
        if (seen.has(share['cluster-reference']))
          ctx.addIssue({
            code: 'custom',
            path: ['static', i, 'cluster-reference'],
            message: `${share['cluster-reference']} has two shares`,
          });
        seen.add(share['cluster-reference']);
        notInHard(share.hard, ['static', i, 'hard']);
        for (const [key, value] of Object.entries(share.hard)) {
          const k = normalizeQuotaKey(key);
          sums.set(k, (sums.get(k) ?? 0n) + (toMilli(value) ?? 0n));
        }
      });
      for (const [key, sum] of sums) {
        const limit = hard.get(key);
        if (limit !== undefined && sum > limit)
          ctx.addIssue({
            code: 'custom',
            path: ['static', key],
            message: `the shares of ${key} add up to ${fromMilli(sum)}, more than hard (${fromMilli(limit)})`,
          });
      }
    } else {
      if (spec.static)
        ctx.addIssue({ code: 'custom', path: ['static'], message: 'static shares need "assignment": "static"' });
      if (spec.reserve) notInHard(spec.reserve, ['reserve']);
    }
  });

export const OverallQuotaCreateSchema = z.strictObject({ metadata: MetadataSchema, spec: OverallQuotaSpec });
export const OverallQuotaUpdateSchema = z.strictObject({
  metadata: UpdateMetadataSchema.optional(),
  spec: OverallQuotaSpec,
});
export type OverallQuotaInput = z.infer<typeof OverallQuotaUpdateSchema>;

export interface OverallQuotaData extends Described {
  hard: KeyValue[];
  assignment: Assignment;
  static: { reference: string; hard: KeyValue[] }[];
  reserve: KeyValue[];
}
export type OverallQuotaRecord = StoredRecord<OverallQuotaData>;

export const overallQuotaData = (input: OverallQuotaInput, described: Described): OverallQuotaData => ({
  ...described,
  hard: mapToPairs(input.spec.hard),
  assignment: input.spec.assignment ?? 'dynamic',
  static: (input.spec.static ?? []).map((s) => ({ reference: s['cluster-reference'], hard: mapToPairs(s.hard) })),
  reserve: mapToPairs(input.spec.reserve),
});

const QuantityMap = z.record(z.string(), z.string());
export const OverallQuotaView = z.strictObject({
  metadata: MetadataView,
  spec: z.strictObject({
    hard: QuantityMap,
    assignment: z.enum(ASSIGNMENTS),
    static: z.array(z.strictObject({ 'cluster-reference': z.string(), hard: QuantityMap })).optional(),
    reserve: QuantityMap.optional(),
  }),
});

export const overallQuotaView = (q: OverallQuotaRecord) => ({
  metadata: metadataView(q.name, q.data),
  spec: {
    hard: pairsToMap(q.data.hard),
    assignment: q.data.assignment,
    ...(q.data.assignment === 'static'
      ? { static: q.data.static.map((s) => ({ 'cluster-reference': s.reference, hard: pairsToMap(s.hard) })) }
      : {}),
    ...(q.data.reserve.length > 0 ? { reserve: pairsToMap(q.data.reserve) } : {}),
  },
});
