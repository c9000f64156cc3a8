/**
 * What a StatusNotify call may carry, bounded and checked before anything is read: a
 * registration names a logical cloud (`lcKey`) — the keys of EMCO's other services (`digKey`:
 * the orchestrator's deployment intent groups, `clusterKey`: a cluster's own status) are
 * refused, naming the key — a status type the DCM can answer, and filters of bounded size.
 */
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { parseInput } from '../http/validation.js';
import { atMost, LIMITS, shortString } from '../validation/limits.js';
import { refuseNulCharacters } from './unary.js';
import type { StatusQuery } from './status-notify-view.js';

/** Bounds of a registration (documented in docs/api.md, "EMCO's StatusNotify"). */
export const STATUS_NOTIFY_LIMITS = {
  clientIdLength: 128,
  /** Entries of `clusters` and of `resources`. */
  filters: 100,
  /** `provider+cluster`. */
  clusterFilterLength: 2 * LIMITS.nameLength + 1,
  /** An object's name (a DNS subdomain at most). */
  resourceFilterLength: 253,
} as const;

const OTHER_KEYS: Record<string, string> = {
  digKey:
    "digKey: this DCM serves StatusNotify for logical clouds (lcKey) only; a deployment intent group's status comes from EMCO's orchestrator",
  clusterKey:
    "clusterKey: this DCM serves StatusNotify for logical clouds (lcKey) only; a cluster's status comes from EMCO's cluster manager",
};

const name = (field: string) =>
  shortString(LIMITS.nameLength, field, z.string({ error: 'is required' })).min(1, { error: 'is required' });

const filters = (max: number, what: string) =>
  z
    .array(z.unknown())
    .max(STATUS_NOTIFY_LIMITS.filters, { error: atMost(STATUS_NOTIFY_LIMITS.filters, what), abort: true })
    .pipe(z.array(shortString(max, 'an entry').min(1, { error: 'an entry is empty' })));

const Registration = z.object({
  clientId: z
    .string({ error: 'is required' })
    .min(1, { error: 'is required' })
    .max(STATUS_NOTIFY_LIMITS.clientIdLength, {
      error: atMost(STATUS_NOTIFY_LIMITS.clientIdLength, 'characters'),
      abort: true,
    })
    .regex(/^[\x21-\x7e]+$/, { error: 'printable ASCII characters without spaces only' }),
  lcKey: z.object({ project: name('project'), logicalCloud: name('logicalCloud') }, { error: 'is required' }),
  statusType: z.enum(['DEPLOYED', 'READY'], {
    error: 'must be DEPLOYED or READY (the types a logical cloud has)',
  }),
  apps: z.array(z.unknown()).max(0, { error: 'a logical cloud has no apps: leave apps empty' }),
  clusters: filters(STATUS_NOTIFY_LIMITS.clusterFilterLength, 'clusters'),
  resources: filters(STATUS_NOTIFY_LIMITS.resourceFilterLength, 'resources'),
  output: z.enum(['SUMMARY', 'ALL'], { error: 'must be SUMMARY or ALL' }),
});

export interface StatusRegistration extends StatusQuery {
  clientId: string;
  project: string;
  logicalCloud: string;
}

/** The key a registration names (the oneof member set), or undefined. */
export const registrationKey = (request: Record<string, unknown>): string | undefined =>
  typeof request.key === 'string' ? request.key : undefined;

/** The registration, checked; INVALID_ARGUMENT naming the field otherwise. */
export function parseRegistration(request: Record<string, unknown>): StatusRegistration {
  refuseNulCharacters(request);
  const key = registrationKey(request);
  if (key !== undefined && OTHER_KEYS[key]) {
    throw new InvalidInputError(OTHER_KEYS[key], [{ field: key, message: OTHER_KEYS[key].slice(key.length + 2) }]);
  }
  const r = parseInput(Registration, { ...request, lcKey: request.lcKey ?? undefined });
  return {
    clientId: r.clientId,
    project: r.lcKey.project,
    logicalCloud: r.lcKey.logicalCloud,
    statusType: r.statusType,
    output: r.output,
    clusters: r.clusters,
    resources: r.resources,
  };
}

/** The client whose streams a deregistration ends. */
export function parseDeregistration(request: Record<string, unknown>): string {
  return parseInput(Registration.pick({ clientId: true }), request).clientId;
}
