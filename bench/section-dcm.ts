/**
 * The compiled DCM a cluster section runs against (drift, budget): its own database, a project,
 * and the 2 test clusters registered under `bench-<section>`. `close()` leaves the test clusters
 * as it found them: the project's namespaces are deleted and waited for, so that the next section
 * does not share the clusters with the namespace controller finalizing them (after the drift
 * section's 2,000, CSRs were not signed for minutes), and the database is dropped.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { buildToTemp, createProject, dropDatabase, registerClusters, startChildDcm, type ChildDcm } from './dcm.js';
import { generateEncryptionKey } from '../src/security/secret-cipher.js';
import { log, onExit, seconds, type Backends } from './env.js';

export const pause = (msValue: number) => new Promise((resolve) => setTimeout(resolve, msValue));

async function removeProjectNamespaces(cores: readonly CoreV1Api[], project: string, section: string) {
  const labelSelector = `dcm.onap.org/project=${project}`;
  for (const core of cores) {
    const namespaces = await core.listNamespace({ labelSelector }).catch(() => ({ items: [] }));
    for (const n of namespaces.items) await core.deleteNamespace({ name: n.metadata!.name! }).catch(() => undefined);
  }
  const begun = Date.now();
  for (const core of cores) {
    const left = async () =>
      (await core.listNamespace({ labelSelector, limit: 1 }).catch(() => ({ items: [] }))).items.length;
    while ((await left()) > 0) {
      if (Date.now() - begun > 15 * 60_000)
        throw new Error(`the ${section} section’s namespaces not gone within 15 min`);
      await pause(1000);
    }
  }
  log(`${section}: namespaces removed from both clusters in ${seconds(Date.now() - begun)}`);
}

export interface SectionDcm {
  dcm: ChildDcm;
  databaseName: string;
  close(): Promise<void>;
}

export async function startSectionDcm(opts: {
  backends: Backends;
  section: string;
  runId: string;
  project: string;
  /** The clusters' admin clients, for the clean-up. */
  cores: readonly CoreV1Api[];
  env: Record<string, string>;
  /** Register each cluster with its CA key, where the test backends have one. */
  withCaKeys?: boolean;
}): Promise<SectionDcm> {
  const { backends, section, project } = opts;
  const [c1, c2] = backends.clusters;
  if (!c1 || !c2) throw new Error(`the ${section} section needs the 2 test clusters`);
  const databaseName = `bench_${section}_${opts.runId}`;
  const build = buildToTemp();
  const removeBuild = onExit(async () => build.remove());
  const cleanUp = async () => {
    await removeProjectNamespaces(opts.cores, project, section);
    await dropDatabase(backends.mongoUrl, databaseName).catch(() => undefined);
  };
  const removeCleanUp = onExit(cleanUp);
  const close = async () => {
    await dcm?.stop();
    stopDcm?.();
    await cleanUp();
    removeCleanUp();
    build.remove();
    removeBuild();
  };
  let dcm: ChildDcm | undefined;
  let stopDcm: (() => void) | undefined;
  try {
    dcm = await startChildDcm({
      mongoUrl: backends.mongoUrl,
      databaseName,
      encryptionKeys: generateEncryptionKey(`bench-${section}`),
      builtMain: build.main,
      env: opts.env,
    });
    const started = dcm;
    stopDcm = onExit(() => started.stop());
    await createProject(dcm.rest, project);
    const withCaKey = (c: typeof c1) => (opts.withCaKeys ? { withCaKey: c.caKeyPath !== undefined } : {});
    await registerClusters(dcm.rest, `bench-${section}`, [
      { name: 'cluster-1', cluster: c1, ...withCaKey(c1) },
      { name: 'cluster-2', cluster: c2, ...withCaKey(c2) },
    ]);
    return { dcm, databaseName, close };
  } catch (error) {
    await close();
    throw error;
  }
}
