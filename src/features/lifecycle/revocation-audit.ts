/**
 * The audit trail of revocations (as src/observability/audit.ts writes it): one line per cluster
 * where a revocation removed what the tenant had made there.
 */
import type { Logger } from '../../logger.js';
import type { ClusterPlacement } from './lifecycle-status.store.js';

/** Objects an audit line names at most (the rest are counted). */
const AUDITED_OBJECTS = 100;

export class RevocationAudit {
  private readonly audit: Logger;

  constructor(logger: Logger) {
    // Audit lines are written at info also when the service logs only warnings; silent stays silent.
    const level = logger.level === 'silent' || logger.levelVal <= 30 ? logger.level : 'info';
    this.audit = logger.child({ name: 'audit', audit: true }, { level });
  }

  removed(project: string, logicalCloud: string, p: ClusterPlacement, removed: string[]): void {
    this.audit.info(
      {
        event: 'tenant-identities-removed',
        project,
        logicalCloud,
        clusterReference: p.reference,
        cluster: `${p.provider}/${p.cluster}`,
        removed: removed.slice(0, AUDITED_OBJECTS),
        ...(removed.length > AUDITED_OBJECTS ? { removedOmitted: removed.length - AUDITED_OBJECTS } : {}),
      },
      `revocation removed ${removed.length} tenant-made object(s) on cluster ${p.provider}/${p.cluster}`,
    );
  }
}
