/**
 * The lifecycle's preconditions (src/features/lifecycle/preconditions.ts): pure decisions from
 * the records and the status document, refusing with the messages the APIs answer.
 */
import { describe, expect, it } from '@jest/globals';
import { ConflictError, StateConflictError } from '../../src/errors.js';
import type { LifecycleDocument, LifecycleState } from '../../src/features/lifecycle/lifecycle-status.store.js';
import {
  MAX_PERMISSIONS,
  checkApply,
  checkChange,
  checkKubeconfig,
  checkRevoke,
  checkStop,
  checkTerminate,
  holdsResources,
  isSettledApplied,
} from '../../src/features/lifecycle/preconditions.js';
import type { LogicalCloudData, LogicalCloudRecord } from '../../src/domain/logical-cloud.js';

const logicalCloud = (data: Partial<LogicalCloudData> = {}): LogicalCloudRecord => ({
  id: 'lc-id',
  scope: { project: 'p1' },
  name: 'lc-1',
  revision: 1,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  data: {
    description: '',
    userData1: '',
    userData2: '',
    namespace: 'ns-1',
    level: '1',
    labels: [],
    user: { name: 'user-1', type: 'certificate' },
    ...data,
  },
});

const status = (state: LifecycleState, inProgress = false): LifecycleDocument => ({
  _id: 'lc-id',
  project: 'p1',
  logicalCloud: 'lc-1',
  state,
  operation: { kind: state.startsWith('Termin') ? 'terminate' : 'apply', inProgress, requestedAt: new Date(0) },
  clusters: [{ reference: 'c1', provider: 'p', cluster: 'c1', state: 'Applied', resources: [], warnings: [] }],
  placements: [{ reference: 'c1', provider: 'p', cluster: 'c1' }],
});

const permission = (namespace: string) => ({
  data: { namespace, apiGroups: [''], resources: ['pods'], verbs: ['get'] },
});

/** Expects `check` to throw an error of exactly that class with exactly that message. */
function expectRefusal(
  check: () => void,
  type: typeof StateConflictError | typeof ConflictError,
  message: string,
): void {
  let thrown: unknown;
  try {
    check();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(type);
  expect((thrown as Error).message).toBe(message);
}

const HOLDING: LifecycleState[] = [
  'Instantiating',
  'Instantiated',
  'InstantiateFailed',
  'Terminating',
  'TerminateFailed',
];
const NOT_HOLDING: LifecycleState[] = ['Created', 'Terminated'];

describe('which states hold objects on clusters', () => {
  it.each(HOLDING)('%s holds resources', (state) => expect(holdsResources(status(state))).toBe(true));
  it.each(NOT_HOLDING)('%s holds none', (state) => expect(holdsResources(status(state))).toBe(false));
  it('no status document: never applied, holds none', () => {
    expect(holdsResources(null)).toBe(false);
    expect(holdsResources(undefined)).toBe(false);
  });

  it('only an applied logical cloud at rest is settled (drift repair may work it)', () => {
    expect(isSettledApplied(status('Instantiated'))).toBe(true);
    expect(isSettledApplied(status('InstantiateFailed'))).toBe(true);
    expect(isSettledApplied(status('Instantiated', true))).toBe(false);
    expect(isSettledApplied(status('Instantiating', true))).toBe(false);
    expect(isSettledApplied(status('TerminateFailed'))).toBe(false);
    expect(isSettledApplied(null)).toBe(false);
  });
});

describe('checkChange (update, delete, identity)', () => {
  it('an update may always proceed, even while applied', () => {
    for (const state of [...HOLDING, ...NOT_HOLDING])
      expect(() => checkChange(logicalCloud(), 'update', status(state))).not.toThrow();
  });

  it.each(HOLDING)('delete and identity changes are refused while %s', (state) => {
    expectRefusal(
      () => checkChange(logicalCloud(), 'delete', status(state)),
      StateConflictError,
      `Logical Cloud lc-1 is applied (${state}); terminate it before deleting it`,
    );
    expectRefusal(
      () => checkChange(logicalCloud(), 'identity', status(state)),
      StateConflictError,
      `the namespace, user and level of Logical Cloud lc-1 cannot change while it is applied (${state}); terminate it first`,
    );
  });

  it.each([...NOT_HOLDING, 'never applied'])('delete and identity changes proceed when %s', (state) => {
    const doc = state === 'never applied' ? null : status(state as LifecycleState);
    expect(() => checkChange(logicalCloud(), 'delete', doc)).not.toThrow();
    expect(() => checkChange(logicalCloud(), 'identity', doc)).not.toThrow();
  });
});

describe('checkApply', () => {
  const records = (permissions = [permission('ns-1')], referenceCount = 1) => ({
    referenceCount,
    permissionCount: permissions.length,
    permissions,
  });

  it('a standard logical cloud with a reference, a user and a permission in its namespace may be applied', () => {
    expect(() => checkApply(logicalCloud(), records())).not.toThrow();
    expect(() => checkApply(logicalCloud(), records([permission(''), permission('ns-1')]))).not.toThrow();
  });

  it('needs a cluster reference', () => {
    expectRefusal(
      () => checkApply(logicalCloud(), records(undefined, 0)),
      StateConflictError,
      'Logical Cloud lc-1 has no cluster references; add at least one before applying',
    );
  });

  it('a standard logical cloud needs a user', () => {
    expectRefusal(
      () => checkApply(logicalCloud({ user: undefined }), records()),
      StateConflictError,
      'Logical Cloud lc-1 has no user',
    );
  });

  it(`applies at most ${MAX_PERMISSIONS} permissions`, () => {
    const many = Array.from({ length: MAX_PERMISSIONS + 1 }, () => permission('ns-1'));
    expectRefusal(
      () => checkApply(logicalCloud(), records(many)),
      StateConflictError,
      `Logical Cloud lc-1 has ${MAX_PERMISSIONS + 1} user permissions; at most ${MAX_PERMISSIONS} can be applied`,
    );
    expect(() => checkApply(logicalCloud(), records(many.slice(1)))).not.toThrow();
  });

  it('needs a permission in its namespace (cluster-wide ones alone are not enough)', () => {
    const message = 'Logical Cloud lc-1 needs at least one user permission in its namespace ns-1';
    expectRefusal(() => checkApply(logicalCloud(), records([])), StateConflictError, message);
    expectRefusal(() => checkApply(logicalCloud(), records([permission('')])), StateConflictError, message);
  });

  it('an admin (level 0) logical cloud needs only a reference', () => {
    expect(() => checkApply(logicalCloud({ level: '0', user: undefined }), records([]))).not.toThrow();
    expect(() => checkApply(logicalCloud({ level: '0', user: undefined }), records([], 0))).toThrow(StateConflictError);
  });
});

describe('checkTerminate', () => {
  it.each(HOLDING)('may terminate when %s', (state) =>
    expect(() => checkTerminate(logicalCloud(), status(state))).not.toThrow(),
  );
  it.each([...NOT_HOLDING, 'never applied'])('nothing to terminate when %s', (state) => {
    const doc = state === 'never applied' ? null : status(state as LifecycleState);
    expectRefusal(
      () => checkTerminate(logicalCloud(), doc),
      StateConflictError,
      'Logical Cloud lc-1 is not applied; there is nothing to terminate',
    );
  });
});

describe('checkStop', () => {
  it('needs an operation in progress', () => {
    expect(() => checkStop(logicalCloud(), status('Instantiating', true))).not.toThrow();
    const refusal = 'no operation is in progress on Logical Cloud lc-1: there is nothing to stop';
    expectRefusal(() => checkStop(logicalCloud(), status('Instantiated')), StateConflictError, refusal);
    expectRefusal(() => checkStop(logicalCloud(), null), StateConflictError, refusal);
  });
});

describe('checkRevoke', () => {
  it('revokes the credentials of an applied standard logical cloud at rest', () => {
    expect(() => checkRevoke(logicalCloud(), status('Instantiated'))).not.toThrow();
    expect(() => checkRevoke(logicalCloud(), status('InstantiateFailed'))).not.toThrow();
  });

  it('refuses a logical cloud without a tenant user', () => {
    expectRefusal(
      () => checkRevoke(logicalCloud({ level: '0', user: undefined }), status('Instantiated')),
      StateConflictError,
      'Logical Cloud lc-1 has no tenant user (level 0): it has no credentials to revoke',
    );
  });

  it('refuses while an operation is in progress (a conflict, not a state problem)', () => {
    expectRefusal(
      () => checkRevoke(logicalCloud(), status('Instantiating', true)),
      ConflictError,
      'an operation on Logical Cloud lc-1 is already in progress',
    );
  });

  it.each(['Created', 'Terminated', 'TerminateFailed', 'never applied'])(
    'refuses a logical cloud that is not applied: %s',
    (state) => {
      const doc = state === 'never applied' ? null : status(state as LifecycleState);
      const shown = state === 'never applied' ? 'Created' : state;
      expectRefusal(
        () => checkRevoke(logicalCloud(), doc),
        StateConflictError,
        `Logical Cloud lc-1 is not applied (${shown}): it has no credentials to revoke`,
      );
    },
  );
});

describe('checkKubeconfig', () => {
  it('an admin logical cloud has no kubeconfig; a standard one may', () => {
    expect(() => checkKubeconfig(logicalCloud())).not.toThrow();
    expectRefusal(
      () => checkKubeconfig(logicalCloud({ level: '0', user: undefined })),
      StateConflictError,
      'Logical Cloud lc-1 is an admin (level 0) logical cloud: it has no tenant user and no kubeconfig',
    );
  });
});
