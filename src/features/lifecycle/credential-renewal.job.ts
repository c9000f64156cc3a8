/**
 * Renews tenant certificates without tenant action: every interval, the logical clouds with a
 * certificate two thirds into its lifetime are applied again (the user controller re-issues what
 * is due; everything else is left as it is). Every replica runs the job; the logical cloud's
 * lease lets exactly one apply happen, the others' attempts answer "in progress" and are skipped.
 * A renewal is an automatic apply: unless an admin made the last explicit apply, the project's
 * policy as it is now bounds it (a cluster the policy no longer admits gets no new certificate
 * and is Failed with the reason; see reapply-policy.ts).
 */
import { SYSTEM_PRINCIPAL } from '../../auth/authorize.js';
import type { NamedRecordStore } from '../../db/named-record-store.js';
import { ConflictError, DomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LogicalCloudData } from '../../domain/logical-cloud.js';
import type { CredentialsStore } from './credentials.store.js';
import type { LifecycleStatusStore } from './lifecycle-status.store.js';
import type { LifecycleService } from './lifecycle.service.js';

/** Its interval and start/stop are the job registry's (src/jobs/registry.ts). */
export class CredentialRenewalJob {
  constructor(
    private readonly credentials: Pick<CredentialsStore, 'dueForRenewal'>,
    private readonly status: Pick<LifecycleStatusStore, 'get'>,
    private readonly logicalClouds: Pick<NamedRecordStore<LogicalCloudData>, 'getById'>,
    private readonly lifecycle: Pick<LifecycleService, 'apply'>,
    private readonly logger: Logger,
  ) {}

  /** Starts the apply of every applied, idle logical cloud with a certificate due; answers their ids. */
  async runOnce(now = new Date()): Promise<string[]> {
    const due = await this.credentials.dueForRenewal(now);
    const renewed: string[] = [];
    for (const id of due) {
      const doc = await this.status.get(id);
      if (!doc || doc.operation.inProgress || (doc.state !== 'Instantiated' && doc.state !== 'InstantiateFailed'))
        continue;
      const lc = await this.logicalClouds.getById(id);
      if (!lc) continue;
      try {
        // Automatic: it obeys the project's policy as it is now unless an admin made the last explicit apply.
        await this.lifecycle.apply(lc.scope.project!, lc.name, SYSTEM_PRINCIPAL, { automatic: true });
        renewed.push(id);
        this.logger.info({ project: lc.scope.project, logicalCloud: lc.name }, 'renewing tenant certificates');
      } catch (error) {
        // Another replica (or an operation) got there first; a refused apply is retried next time.
        if (!(error instanceof ConflictError) && !(error instanceof DomainError)) throw error;
        this.logger.debug(
          { project: lc.scope.project, logicalCloud: lc.name, reason: error.message },
          'certificate renewal not started',
        );
      }
    }
    return renewed;
  }
}
