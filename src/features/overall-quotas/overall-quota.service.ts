/**
 * Overall quotas: one budget (a ResourceQuota `hard` map) for all of a logical cloud's clusters,
 * split into a ResourceQuota per cluster by the rebalancer (overall-quota-rebalancer.job.ts).
 * The rules here: reserve × clusters fits in hard, and a project caller stays within the
 * project policy's `maxOverall`.
 */
import { pairsToMap } from '../../db/named-record-store.js';
import { InvalidInputError } from '../../errors.js';
import { normalizeQuotaKey } from '../../validation/quota-key.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import { describedFrom } from '../metadata.js';
import type { Caller } from '../project-policies/project-policy.service.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import { fromMilli, toMilli } from './milli-quantity.js';
import { overallQuotaData, type OverallQuotaData, type OverallQuotaInput } from './overall-quota.schema.js';
import type { OverallQuotaStore } from './overall-quota.store.js';

export type OverallQuotaService = LogicalCloudChildService<OverallQuotaInput, OverallQuotaData>;

export interface OverallQuotaPorts {
  /** How many cluster references the logical cloud has now. */
  countReferences(lc: LogicalCloudRecord): Promise<number>;
  /** The project's `maxOverall` (key → quantity) when its policy sets one; admins are not bounded. */
  maxOverall(project: string): Promise<Record<string, string> | undefined>;
}

const normalized = (map: Record<string, string>) =>
  new Map(Object.entries(map).map(([k, v]) => [normalizeQuotaKey(k), { given: k, milli: toMilli(v) ?? 0n }]));

/** The keys of a budget's `hard` above the policy's `maxOverall`, each with the rule it breaks. */
function beyondMaxOverall(hard: ReturnType<typeof normalized>, max: Record<string, string> | undefined) {
  const over: { given: string; message: string }[] = [];
  for (const [key, bound] of normalized(max ?? {})) {
    const asked = hard.get(key);
    if (asked && asked.milli > bound.milli)
      over.push({
        given: asked.given,
        message: `more than the project policy allows (maxOverall ${key}: ${fromMilli(bound.milli)})`,
      });
  }
  return over;
}

/**
 * At a project caller's apply: why the logical cloud's budgets are beyond the policy's `maxOverall`
 * as it is now (an admin narrowed it since they were written), or undefined.
 */
export async function overallQuotaPolicyRefusal(
  store: Pick<OverallQuotaStore, 'findWhere'>,
  ports: Pick<OverallQuotaPorts, 'maxOverall'>,
  project: string,
  logicalCloudId: string,
): Promise<string | undefined> {
  const max = await ports.maxOverall(project);
  if (!max) return undefined;
  for (const budget of await store.findWhere({ logicalCloudId }, {})) {
    const over = beyondMaxOverall(normalized(pairsToMap(budget.data.hard)), max);
    if (over.length > 0)
      return `overall quota ${budget.name}: ${over.map((o) => `${o.given} ${o.message}`).join('; ')}`;
  }
  return undefined;
}

export function createOverallQuotaService(
  store: OverallQuotaStore,
  logicalClouds: LogicalCloudResolver,
  guard: () => LifecycleGuard,
  ports: OverallQuotaPorts,
): OverallQuotaService {
  return new LogicalCloudChildService('Overall quota', store, logicalClouds, {
    prepare: async (lc, input, _name, caller: Caller) => {
      const hard = normalized(input.spec.hard);
      const problems: { field: string; message: string }[] = [];
      if (input.spec.reserve) {
        const clusters = BigInt(await ports.countReferences(lc));
        for (const [key, reserve] of normalized(input.spec.reserve)) {
          const limit = hard.get(key)?.milli ?? 0n;
          if (reserve.milli * clusters > limit)
            problems.push({
              field: `spec.reserve.${reserve.given}`,
              message: `${fromMilli(reserve.milli)} on each of ${clusters} clusters is more than hard (${fromMilli(limit)})`,
            });
        }
      }
      if (!caller.admin)
        for (const over of beyondMaxOverall(hard, await ports.maxOverall(lc.scope.project!)))
          problems.push({ field: `spec.hard.${over.given}`, message: over.message });
      if (problems.length > 0) throw InvalidInputError.forFields(problems);
      return overallQuotaData(input, describedFrom(input.metadata));
    },
    checkMutable: (lc) => guard().checkMutable(lc, 'update'),
  });
}

/** The budget's `hard` keyed by normalized key, in milli-units. */
export const hardOf = (data: OverallQuotaData): Map<string, bigint> =>
  new Map(Object.entries(pairsToMap(data.hard)).map(([k, v]) => [normalizeQuotaKey(k), toMilli(v) ?? 0n]));
