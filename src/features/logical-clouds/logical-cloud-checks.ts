/**
 * What a logical cloud's data must satisfy before create or update writes it: no reserved label
 * keys unless the project allows them, container defaults within its quotas, and the project's
 * policy for non-admin callers.
 */
import { pairsToMap, type NamedRecordStore } from '../../db/named-record-store.js';
import type { ClusterQuotaData, LogicalCloudData, LogicalCloudRecord } from '../../domain/logical-cloud.js';
import { InvalidInputError } from '../../errors.js';
import { defaultsExceedingQuotas } from '../../validation/container-defaults.js';
import { reservedLabelKeyReason } from '../../validation/reserved-labels.js';
import {
  logicalCloudBoundary,
  type Caller,
  type ProjectPolicyService,
} from '../project-policies/project-policy.service.js';
import { permissionData, type InlinePermission } from './inline-permissions.js';

/**
 * Labels under prefixes Kubernetes, Istio or the DCM reserve are refused (400 naming each key) for
 * every caller, unless the project's policy allows the prefix; the policy is read only when needed.
 */
export async function checkLabels(
  policies: Pick<ProjectPolicyService, 'allowedLabelPrefixes'>,
  project: string,
  data: LogicalCloudData,
): Promise<void> {
  if (!data.labels.some(({ key }) => reservedLabelKeyReason(key) !== undefined)) return;
  const allowed = await policies.allowedLabelPrefixes(project);
  const problems = data.labels.flatMap(({ key }) => {
    const reason = reservedLabelKeyReason(key, allowed);
    return reason ? [{ field: `spec.labels.${key}`, message: reason }] : [];
  });
  if (problems.length > 0) throw InvalidInputError.forFields(problems);
}

/** The logical cloud's own container defaults must fit in each of its quotas (400 naming both). */
export async function checkContainerDefaults(
  clusterQuotas: NamedRecordStore<ClusterQuotaData>,
  current: LogicalCloudRecord,
  data: LogicalCloudData,
): Promise<void> {
  const defaults = data.isolation?.containerDefaults;
  if (!defaults) return;
  const quotas = await clusterQuotas.list({ logicalCloudId: current.id });
  const problems = defaultsExceedingQuotas(
    defaults,
    quotas.items.map((q) => ({ name: q.name, hard: pairsToMap(q.data.spec) })),
  );
  if (problems.length > 0) throw InvalidInputError.forFields(problems);
}

/** The project's policy bounds what a non-admin caller may give a logical cloud: its level and its permissions. */
export function enforcePolicy(
  policies: Pick<ProjectPolicyService, 'enforce'>,
  caller: Caller,
  project: string,
  data: LogicalCloudData,
  permissions: InlinePermission[] | undefined,
): Promise<void> {
  return policies.enforce(caller, project, {
    ...logicalCloudBoundary(data),
    ...(permissions ? { permissions: permissions.map((p) => ({ ...permissionData(data, p), name: p.name })) } : {}),
  });
}
