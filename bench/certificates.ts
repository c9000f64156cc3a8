/**
 * Certificate issuance: what one logical cloud's tenant certificate costs — a private key,
 * a CSR and a signed certificate — on both signing paths, through the DCM's own user
 * controller: the cluster's CSR API (create, approve, wait for the signer, delete) and local
 * signing with the cluster's CA key. Also the parts alone, and RSA-2048 vs 4096 key generation.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { createCsr, generatePrivateKey, signCsrLocally } from '../src/certificates/certificates.js';
import { defaultConfig } from '../src/config.js';
import { ClusterContext } from '../src/controllers/cluster-context.js';
import { UserController } from '../src/controllers/user.controller.js';
import type { LogicalCloudRecord, ClusterReferenceRecord } from '../src/domain/logical-cloud.js';
import { createClusterGateway } from '../src/kubernetes/kube-cluster-gateway.js';
import { createProject, registerClusters, startInProcessDcm } from './dcm.js';
import type { Backends, BenchOptions, SectionResult } from './env.js';
import { fmt, log, mean, ms, percentile, table, timed } from './env.js';

/** The DCM's own key generation. */
const rsaKey = (bits: 2048 | 4096): Promise<string> => generatePrivateKey(bits);

/** n sequential runs of `work`, in milliseconds each. */
async function sample(n: number, work: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push((await timed(async () => work(i))).ms);
  return samples;
}

const statsRow = (label: string, samples: number[]) => [
  label,
  samples.length,
  ms(mean(samples)),
  ms(percentile(samples, 50)),
  ms(percentile(samples, 95)),
  ms(Math.max(...samples)),
];

export async function certificates(backends: Backends, opts: BenchOptions): Promise<SectionResult> {
  const n2048 = opts.quick ? 5 : 20;
  const n4096 = opts.quick ? 2 : 8;
  const nParts = opts.quick ? 5 : 20;
  const nIssue = opts.quick ? 3 : 10;
  const cluster = backends.clusters[0];
  if (!cluster?.caKeyPath) throw new Error('test cluster 1 with its CA key is needed (DCM_TEST_CLUSTER_1_CA_KEY)');

  // ---- key generation ---------------------------------------------------------------------------
  log('certificates: RSA key generation');
  await rsaKey(2048); // warm-up
  const keys2048: string[] = [];
  const keys4096: string[] = [];
  const gen2048 = await sample(n2048, async () => keys2048.push(await rsaKey(2048)));
  const gen4096 = await sample(n4096, async () => keys4096.push(await rsaKey(4096)));
  const parallelCount = 8;
  const parallel = await timed(() => Promise.all(Array.from({ length: parallelCount }, () => rsaKey(2048))));

  // ---- CSR and local signing alone ---------------------------------------------------------------
  log('certificates: CSR and local signing');
  const csr2048 = await sample(nParts, (i) =>
    createCsr({ privateKeyPem: keys2048[i % keys2048.length]!, commonName: `user-${i}`, organization: 'bench/lc' }),
  );
  const csr4096 = await sample(Math.min(nParts, n4096 * 2), (i) =>
    createCsr({ privateKeyPem: keys4096[i % keys4096.length]!, commonName: `user-${i}`, organization: 'bench/lc' }),
  );
  const caKeyPem = fs.readFileSync(cluster.caKeyPath, 'utf8');
  const kubeconfigText = fs.readFileSync(cluster.kubeconfigPath, 'utf8');
  const caCertPem = Buffer.from(/certificate-authority-data:\s*(\S+)/.exec(kubeconfigText)![1]!, 'base64').toString(
    'utf8',
  );
  const csrPem = createCsr({ privateKeyPem: keys2048[0]!, commonName: 'user-sign', organization: 'bench/lc' });
  const localSign = await sample(nParts, () =>
    signCsrLocally({
      csrPem,
      caCertPem,
      caKeyPem,
      validitySeconds: defaultConfig().DCM_CERT_VALIDITY_SECONDS,
      usages: 'client',
    }),
  );

  // ---- one logical cloud's certificate through the user controller, both paths --------------------
  const t = await startInProcessDcm({ mongoUrl: backends.mongoUrl, databaseName: `bench_${opts.runId}_certs` });
  const perPath = new Map<string, number[]>();
  try {
    const provider = 'bench-provider';
    await createProject(t.rest, 'bench');
    await registerClusters(t.rest, provider, [
      { name: 'via-csr-api', cluster },
      { name: 'via-ca-key', cluster, withCaKey: true },
    ]);
    const config = defaultConfig();
    const controller = new UserController(t.dcm.stores.credentials, {
      keyBits: config.DCM_USER_KEY_BITS,
      certificateValiditySeconds: config.DCM_CERT_VALIDITY_SECONDS,
      signTimeoutMs: config.DCM_CSR_SIGN_TIMEOUT_MS,
    });
    for (const [label, registered] of [
      ['cluster CSR API (create, approve, signer, delete)', 'via-csr-api'],
      ['local signing with the cluster CA key', 'via-ca-key'],
    ] as const) {
      log(`certificates: ${nIssue} logical clouds, ${label}`);
      const record = await t.dcm.services.clusters.get(provider, registered);
      const secrets = t.dcm.services.clusters.secretsOf(record);
      const issue = async (i: number) => {
        const now = new Date();
        const logicalCloud: LogicalCloudRecord = {
          id: randomUUID(),
          scope: { project: 'bench' },
          name: `lc-cert-${registered}-${i}`,
          revision: 1,
          createdAt: now,
          updatedAt: now,
          data: {
            description: '',
            userData1: '',
            userData2: '',
            namespace: `bench-${opts.runId}-certs`,
            level: '1',
            labels: [],
            user: { name: `bench-${opts.runId}-user-${registered}-${i}`, type: 'certificate' },
          },
        };
        const reference: ClusterReferenceRecord = {
          id: randomUUID(),
          scope: { logicalCloudId: logicalCloud.id },
          name: cluster.name,
          revision: 1,
          createdAt: now,
          updatedAt: now,
          data: {
            clusterProvider: provider,
            cluster: registered,
            loadbalancerIp: '',
            description: '',
            userData1: '',
            userData2: '',
          },
        };
        // The tenant identity (credential generation and key) is prepared once per apply, before its clusters.
        const tenant = await controller.prepare('bench', logicalCloud);
        const ctx = new ClusterContext(
          {
            project: 'bench',
            logicalCloud,
            reference,
            cluster: record,
            clusterSecrets: secrets,
            permissions: [],
            quotas: [],
            ...(tenant ? { tenant } : {}),
          },
          createClusterGateway(secrets.kubeconfig, config.DCM_CLUSTER_TIMEOUT_MS),
        );
        await controller.apply(ctx);
        const line = ctx.resources.find((r) => r.category === 'user-certificate');
        if (line?.status !== 'Created')
          throw new Error(`certificate of ${logicalCloud.name} not issued: ${line?.message ?? 'no status'}`);
      };
      await issue(-1); // warm-up: connection, watch machinery
      perPath.set(label, await sample(nIssue, issue));
    }
  } finally {
    await t.close();
  }

  const paths = [...perPath.entries()];
  const markdown = [
    `Sequential, one at a time. Key generation is node:crypto \`generateKeyPair('rsa')\` (what the DCM uses, off the main thread); ` +
      'CSRs and certificates are written with @peculiar/asn1-x509 and asn1-csr and signed with node:crypto.',
    '',
    table(
      ['step', 'n', 'mean', 'p50', 'p95', 'max'],
      [
        statsRow('RSA-2048 key generation', gen2048),
        statsRow('RSA-4096 key generation', gen4096),
        statsRow('CSR with a 2048-bit key (createCsr)', csr2048),
        statsRow('CSR with a 4096-bit key (createCsr)', csr4096),
        statsRow('local signing of a CSR (signCsrLocally, 2048-bit CA)', localSign),
      ],
    ),
    '',
    `RSA-4096 / RSA-2048 key generation (mean): **${fmt(mean(gen4096) / mean(gen2048), 1)}×**. ` +
      `${parallelCount} RSA-2048 keys at once: ${ms(parallel.ms)} wall (${fmt(parallel.ms / parallelCount)} ms per key: generation runs on the libuv thread pool, ` +
      `${process.env.UV_THREADPOOL_SIZE ?? 4} threads, on ${os.cpus().length} cores).`,
    '',
    `**Per logical cloud** (the DCM's UserController.apply for one cluster reference: key generated and stored sealed, CSR, certificate, stored; ` +
      `${config2048()} keys; test cluster ${cluster.name}):`,
    '',
    table(
      ['signing path', 'n', 'mean', 'p50', 'p95', 'max'],
      paths.map(([label, s]) => statsRow(label, s)),
    ),
    '',
    paths.length === 2
      ? `Cluster CSR API / local signing (mean): ${fmt(mean(paths[0]![1]) / mean(paths[1]![1]), 1)}×.`
      : '',
  ].join('\n');
  return { title: 'Certificate issuance', markdown, targets: [] };
}

const config2048 = () => `RSA-${defaultConfig().DCM_USER_KEY_BITS}`;
