/**
 * A section leaves the test clusters as it found them: its project's namespaces are deleted and
 * waited for, so that the next section does not share the clusters with the namespace controller
 * finalizing them (after the drift section's 2,000, CSRs were not signed for minutes).
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { log, seconds } from './env.js';

const pause = (msValue: number) => new Promise((resolve) => setTimeout(resolve, msValue));

export async function removeProjectNamespaces(cores: readonly CoreV1Api[], project: string, section: string) {
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
