/**
 * Mesh apply per cluster: what a service mesh adds to an apply on each cluster — the CA
 * issuance (a new RSA-2048 intermediate, sealed and stored), the control-plane namespace and
 * `cacerts` Secret, the discovery read and the `Istio` declaration — measured on the two
 * standing test clusters as the wall time of an apply with the mesh minus the same apply
 * without it, and the re-apply that reuses the intermediate. The Sail Operator's Istio CRD is
 * the test fixture; nothing acts on the resource and the DCM does not wait for readiness
 * (DCM_MESH_READY_TIMEOUT_MS 0): the readiness wait is the operator's time, not the DCM's.
 */
import { execFileSync } from 'node:child_process';
import { paths } from '../test/testenv/layout.js';
import {
  createProject,
  lcPath,
  logicalCloudBody,
  registerClusters,
  startInProcessDcm,
  type InProcessDcm,
} from './dcm.js';
import type { Backends, BenchOptions, SectionResult } from './env.js';
import { fmt, log, mean, ms, table, timed } from './env.js';

const PROJECT = 'bench-mesh';
const PROVIDER = 'bench-mesh';
const CRD = 'test/fixtures/crds/sail-istio.yaml';

interface StatusBody {
  status?: string;
  clusters?: {
    'mesh-status'?: string;
    'ca-status'?: string;
    resources?: { category: string; kind: string; message?: string }[];
  }[];
}

async function applySettled(t: InProcessDcm, lc: string): Promise<{ ms: number; status: StatusBody }> {
  const { ms: wall } = await timed(async () => {
    await t.rest.expect('POST', `${lcPath(PROJECT, lc)}/apply`, 200);
    await t.dcm.services.lifecycle.settled(PROJECT, lc);
  });
  const status = (await t.rest.expect('GET', `${lcPath(PROJECT, lc)}/status`, 200)).body as StatusBody;
  return { ms: wall, status };
}

async function terminateSettled(t: InProcessDcm, lc: string): Promise<number> {
  const { ms: wall } = await timed(async () => {
    await t.rest.expect('POST', `${lcPath(PROJECT, lc)}/terminate`, 202);
    await t.dcm.services.lifecycle.settled(PROJECT, lc);
  });
  return wall;
}

export async function meshApply(backends: Backends, opts: BenchOptions): Promise<SectionResult> {
  const repeats = opts.quick ? 1 : 3;
  const clusters = backends.clusters.slice(0, 2);
  const kubectl = process.env.KUBECTL ?? paths.kubectl;
  for (const c of clusters) {
    execFileSync(kubectl, ['--kubeconfig', c.kubeconfigPath, 'apply', '-f', CRD], { stdio: 'ignore' });
    execFileSync(
      kubectl,
      [
        '--kubeconfig',
        c.kubeconfigPath,
        'wait',
        '--for=condition=Established',
        'crd/istios.sailoperator.io',
        '--timeout=60s',
      ],
      { stdio: 'ignore' },
    );
  }
  const t = await startInProcessDcm({
    mongoUrl: backends.mongoUrl,
    databaseName: `bench_mesh_${opts.runId}`,
    config: { DCM_CLUSTER_TIMEOUT_MS: 30_000, DCM_MESH_READY_TIMEOUT_MS: 0 },
  });
  const rows: (string | number)[][] = [];
  const plain: number[] = [];
  const first: number[] = [];
  const again: number[] = [];
  const againPlain: number[] = [];
  const terminate: number[] = [];
  try {
    await createProject(t.rest, PROJECT);
    await registerClusters(
      t.rest,
      PROVIDER,
      clusters.map((c) => ({ name: c.name, cluster: c })),
    );
    for (let r = 0; r < repeats; r++) {
      for (const mesh of [false, true]) {
        const lc = `bench-mesh-${mesh ? 'on' : 'off'}-${r}`;
        const body = logicalCloudBody(lc, `${lc}-ns`, `${lc}-user`);
        await t.rest.expect(
          'POST',
          `/v2/projects/${PROJECT}/logical-clouds`,
          201,
          mesh ? { ...body, spec: { ...body.spec, serviceMesh: { enabled: true } } } : body,
        );
        for (const c of clusters) {
          await t.rest.expect('POST', `${lcPath(PROJECT, lc)}/cluster-references`, 201, {
            name: c.name,
            'cluster-provider': PROVIDER,
            'cluster-name': c.name,
          });
        }
        const applied = await applySettled(t, lc);
        const meshStates = (applied.status.clusters ?? []).map((c) => c['mesh-status']).join('/');
        if (mesh) {
          first.push(applied.ms);
          const reapplied = await applySettled(t, lc);
          again.push(reapplied.ms);
          // Nothing acts on the Istio resource here: Pending is the expected outcome.
          if (
            !(applied.status.clusters ?? []).every(
              (c) => c['ca-status'] === 'Created' && c['mesh-status'] === 'Pending',
            )
          ) {
            throw new Error(
              `mesh apply did not declare the control plane: ${JSON.stringify(applied.status.clusters?.map((c) => c.resources))}`,
            );
          }
        } else {
          plain.push(applied.ms);
          againPlain.push((await applySettled(t, lc)).ms);
        }
        terminate.push(await terminateSettled(t, lc));
        await t.rest.expect('DELETE', lcPath(PROJECT, lc), 204);
        log(`mesh ${mesh ? 'on' : 'off'} #${r}: apply ${ms(applied.ms)} (${meshStates || 'no mesh'})`);
      }
    }
  } finally {
    await t.close();
  }
  const perCluster = (mean(first) - mean(plain)) / clusters.length;
  rows.push(['apply, no mesh', ms(mean(plain)), '—']);
  rows.push(['apply with mesh (new intermediates)', ms(mean(first)), ms(perCluster)]);
  rows.push(['re-apply, no mesh', ms(mean(againPlain)), '—']);
  rows.push([
    're-apply with mesh (intermediates reused)',
    ms(mean(again)),
    ms((mean(again) - mean(againPlain)) / clusters.length),
  ]);
  rows.push(['terminate (mesh or not, mean)', ms(mean(terminate)), '—']);
  const markdown = [
    `${clusters.length} clusters applied in parallel, ${repeats} run(s) each; "added per cluster" = (apply with mesh − the same apply without) / clusters.`,
    '',
    table(['operation', 'wall time (mean)', 'added per cluster'], rows),
    '',
    `The mesh adds about ${fmt(perCluster, 0)} ms per cluster on a first apply: RSA-2048 key generation for the intermediate, sealing and storing it, ` +
      'the control-plane namespace and Secret, a discovery read and the Istio declaration. Readiness (istiod starting) is not included: ' +
      "it is the operator's time and bounded by DCM_MESH_READY_TIMEOUT_MS.",
  ].join('\n');
  return { title: 'Mesh apply per cluster', markdown, targets: [] };
}
