/**
 * `spec.clusterSelector` and `spec.clusterSelection` of a logical cloud as the APIs take them
 * (Kubernetes label-selector semantics over registered clusters), and their stored form.
 */
import { z } from 'zod';
import { mapToPairs, pairsToMap } from '../../db/named-record-store.js';
import {
  SELECTOR_OPERATORS,
  type ClusterSelector,
  type LogicalCloudData,
  type SelectionRemoval,
} from '../../domain/logical-cloud.js';
import { resourceName } from '../../validation/record-metadata.js';
import { atMost, boundedRecord, LIMITS } from '../../validation/limits.js';

/** Most expressions, providers and values one selector holds. */
export const SELECTOR_LIMITS = { providers: 20, expressions: 20, values: 50 } as const;

const LabelKey = z
  .string()
  .min(1, 'a label key is not empty')
  .max(LIMITS.labelKeyLength, atMost(LIMITS.labelKeyLength, 'characters'));
const LabelValue = z.string().max(LIMITS.labelValueLength, atMost(LIMITS.labelValueLength, 'characters'));

const Expression = z
  .strictObject({
    key: LabelKey,
    operator: z.enum(SELECTOR_OPERATORS, { message: 'operator is one of In, NotIn, Exists, DoesNotExist' }),
    values: z.array(LabelValue).max(SELECTOR_LIMITS.values, atMost(SELECTOR_LIMITS.values, 'values')).optional(),
  })
  .superRefine((e, ctx) => {
    const needsValues = e.operator === 'In' || e.operator === 'NotIn';
    if (needsValues && (e.values ?? []).length === 0)
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${e.operator} needs at least one value` });
    if (!needsValues && e.values !== undefined && e.values.length > 0)
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${e.operator} takes no values` });
  })
  .meta({
    oneOf: [
      { properties: { operator: { enum: ['In', 'NotIn'] }, values: { minItems: 1 } }, required: ['values'] },
      { properties: { operator: { enum: ['Exists', 'DoesNotExist'] }, values: { maxItems: 0 } } },
    ],
  });

export const ClusterSelectorSchema = z
  .strictObject({
    providers: z
      .array(resourceName)
      .max(SELECTOR_LIMITS.providers, atMost(SELECTOR_LIMITS.providers, 'providers'))
      .optional(),
    matchLabels: boundedRecord(LabelValue, LIMITS.labels, 'labels', LIMITS.labelKeyLength)
      .refine((labels) => !Object.hasOwn(labels, ''), { message: 'a label key is not empty' })
      .meta({
        maxProperties: LIMITS.labels,
        propertyNames: { type: 'string', minLength: 1, maxLength: LIMITS.labelKeyLength },
        additionalProperties: { type: 'string', maxLength: LIMITS.labelValueLength },
      })
      .optional(),
    matchExpressions: z
      .array(Expression)
      .max(SELECTOR_LIMITS.expressions, atMost(SELECTOR_LIMITS.expressions, 'expressions'))
      .optional(),
  })
  .meta({
    description:
      'The registered clusters this logical cloud spans, chosen by their labels (Kubernetes label-selector ' +
      'semantics; every clause must hold) and intersected with the clusters the project policy admits. ' +
      'An empty selector selects every admitted cluster.',
    examples: [
      {
        providers: ['edge'],
        matchLabels: { tier: 'edge' },
        matchExpressions: [{ key: 'zone', operator: 'In', values: ['east', 'west'] }],
      },
    ],
  });

export const ClusterSelectionSchema = z
  .strictObject({
    removal: z.enum(['Terminate', 'Keep'], {
      message: 'removal is "Terminate" (the default) or "Keep"',
    }),
  })
  .meta({
    description:
      'What happens on a cluster that leaves the selection: Terminate (removed there) or Keep (left as applied; ' +
      'its reference stays, marked orphaned, until an admin removes it).',
    examples: [{ removal: 'Terminate' }],
  });

export type ClusterSelectorBody = z.infer<typeof ClusterSelectorSchema>;

/** The stored selector of a body's (only what was given). */
export function selectorData(body: ClusterSelectorBody): ClusterSelector {
  return {
    ...(body.providers ? { providers: body.providers } : {}),
    ...(body.matchLabels ? { matchLabels: mapToPairs(body.matchLabels) } : {}),
    ...(body.matchExpressions
      ? {
          matchExpressions: body.matchExpressions.map((e) => ({
            key: e.key,
            operator: e.operator,
            ...(e.values ? { values: e.values } : {}),
          })),
        }
      : {}),
  };
}

/** The selector as the APIs show it. */
export function selectorView(selector: ClusterSelector): ClusterSelectorBody {
  return {
    ...(selector.providers ? { providers: selector.providers } : {}),
    ...(selector.matchLabels ? { matchLabels: pairsToMap(selector.matchLabels) } : {}),
    ...(selector.matchExpressions ? { matchExpressions: selector.matchExpressions } : {}),
  };
}

export const removalOf = (data: Pick<LogicalCloudData, 'clusterSelection'>): SelectionRemoval =>
  data.clusterSelection?.removal ?? 'Terminate';
