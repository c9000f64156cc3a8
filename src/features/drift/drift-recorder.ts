/**
 * A cluster connection that notes drift as the controllers go: every object they apply is
 * first read and compared with what they apply (object-drift.ts); every object of the logical
 * cloud they delete as no longer desired was put there by someone else. In `repair` mode the
 * calls then go through, and the controllers restore the cluster as in an apply; in `report`
 * mode (a logical cloud whose reconcile is paused) nothing is written: applies and deletes
 * answer as if done, and anything else that would write (a certificate) is refused.
 */
import { describeDifferences, objectDifferences, type DesiredObject } from '../../kubernetes/object-differences.js';

export type DriftChange = 'deleted' | 'changed' | 'deleting' | 'unexpected';

/** One object found drifted on a cluster. */
export interface DriftFinding {
  kind: string;
  name: string;
  namespace?: string;
  change: DriftChange;
  /** What changed, for people (bounded). */
  details: string;
}

interface Ref {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** The calls of a cluster connection this wrapper takes part in; everything else passes through. */
interface WritableConnection {
  apply<T extends object>(object: T): Promise<T>;
  read<T extends object>(ref: Ref): Promise<T | undefined>;
  delete(ref: Ref): Promise<boolean>;
}

const refOf = (object: DesiredObject): Ref => ({
  apiVersion: object.apiVersion ?? '',
  kind: object.kind ?? '',
  name: object.metadata?.name ?? '',
  ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
});

/** Calls that write in ways a report-only check must not (beside apply and delete). */
const WRITES = new Set(['deleteAndWait', 'signClientCertificate', 'requestToken']);

export class DriftRecorder {
  readonly findings: DriftFinding[] = [];

  constructor(private readonly mode: 'repair' | 'report') {}

  /** The connection the controllers get: `inner` with applies and deletes observed (and, when reporting, held back). */
  wrap<C extends WritableConnection>(inner: C): C {
    const apply = async <T extends object>(object: T): Promise<T> => {
      await this.compare(inner, object as DesiredObject);
      return this.mode === 'repair' ? inner.apply(object) : object;
    };
    // A delete that finds nothing was no drift (a clean-up of something already gone).
    const remove = async (ref: Ref): Promise<boolean> => {
      const there = this.mode === 'repair' ? await inner.delete(ref) : (await inner.read(ref)) !== undefined;
      if (there) {
        const details = "carries the logical cloud's labels but is not one of its objects";
        this.note({
          kind: ref.kind,
          name: ref.name,
          ...(ref.namespace ? { namespace: ref.namespace } : {}),
          change: 'unexpected',
          details,
        });
      }
      return there;
    };
    const refused = (name: string) => () =>
      Promise.reject(new Error(`${name} skipped: the logical cloud's reconcile is paused (drift is only reported)`));
    return new Proxy(inner, {
      get: (target, property, receiver) => {
        if (property === 'apply') return apply;
        if (property === 'delete') return remove;
        if (this.mode === 'report' && typeof property === 'string' && WRITES.has(property)) return refused(property);
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private async compare(inner: WritableConnection, desired: DesiredObject): Promise<void> {
    const ref = refOf(desired);
    const base = { kind: ref.kind, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) };
    const actual = await inner.read<DesiredObject>(ref);
    if (!actual) {
      this.note({ ...base, change: 'deleted', details: 'not on the cluster' });
      return;
    }
    if (actual.metadata && 'deletionTimestamp' in actual.metadata && actual.metadata.deletionTimestamp) {
      this.note({
        ...base,
        change: 'deleting',
        details: `being deleted since ${String(actual.metadata.deletionTimestamp)}`,
      });
      return;
    }
    const differences = objectDifferences(desired, actual);
    if (differences.length > 0) this.note({ ...base, change: 'changed', details: describeDifferences(differences) });
  }

  private note(finding: DriftFinding): void {
    this.findings.push(finding);
  }
}
