/**
 * One test cluster: a kube-apiserver (x509 client certificates, RBAC, ResourceQuota
 * admission) and a kube-controller-manager (namespace, resource-quota, service-account
 * and CSR-signing controllers) over a shared etcd under the cluster's own prefix.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { paths } from './layout.js';
import { ensureClusterPki, kubeconfigYaml, type ClusterPki } from './pki.js';
import { startDetached, waitFor, type StartedProcess } from './processes.js';

export interface ClusterState {
  name: string;
  port: number;
  server: string;
  kubeconfig: string;
  caCert: string;
  caKey: string;
  apiserverPid: number;
  controllerManagerPid: number;
}

const CONTROLLERS = [
  'namespace-controller',
  'resourcequota-controller',
  'serviceaccount-controller',
  'garbage-collector-controller',
  'certificatesigningrequest-signing-controller',
  'certificatesigningrequest-cleaner-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
];

export function apiRequest(
  pki: Pick<ClusterPki, 'caCert' | 'adminCert' | 'adminKey'>,
  port: number,
  pathName: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathName,
        method: 'GET',
        ca: fs.readFileSync(pki.caCert),
        cert: fs.readFileSync(pki.adminCert),
        key: fs.readFileSync(pki.adminKey),
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function startCluster(opts: {
  name: string;
  kube: string;
  etcdUrl: string;
  port: number;
  /** Told each PID the moment its process is spawned, so that a caller can stop it even if starting fails later. */
  onSpawn?: (pid: number) => void;
  timeoutMs?: number;
}): Promise<ClusterState> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const dir = paths.clusterDir(opts.name);
  const pki = ensureClusterPki(path.join(dir, 'pki'), opts.name);
  const server = `https://127.0.0.1:${opts.port}`;

  const kubeconfig = path.join(dir, 'admin.kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    kubeconfigYaml({
      clusterName: opts.name,
      server,
      caFile: pki.caCert,
      certFile: pki.adminCert,
      keyFile: pki.adminKey,
      user: 'admin',
    }),
    { mode: 0o600 },
  );
  const controllerManagerKubeconfig = path.join(dir, 'controller-manager.kubeconfig');
  fs.writeFileSync(
    controllerManagerKubeconfig,
    kubeconfigYaml({
      clusterName: opts.name,
      server,
      caFile: pki.caCert,
      certFile: pki.controllerManagerCert,
      keyFile: pki.controllerManagerKey,
      user: 'system:kube-controller-manager',
    }),
    { mode: 0o600 },
  );

  const apiserver = startDetached(`${opts.name}-kube-apiserver`, opts.kube, [
    'kube-apiserver',
    `--etcd-servers=${opts.etcdUrl}`,
    `--etcd-prefix=/${opts.name}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${opts.port}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=RBAC',
    // As kubeadm, EKS, GKE and k3s set it: privileged containers are allowed by the API server,
    // so a refusal of one is Pod Security's (the DCM's isolation), not this flag's.
    '--allow-privileged=true',
    '--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--endpoint-reconciler-type=none',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--v=1',
  ]);
  opts.onSpawn?.(apiserver.pid);
  const ready = () => apiRequest(pki, opts.port, '/readyz').then((r) => r.status === 200);
  await waitFor(`${opts.name} kube-apiserver`, ready, { timeoutMs, process: apiserver });

  const controllerManager: StartedProcess = startDetached(`${opts.name}-kube-controller-manager`, opts.kube, [
    'kube-controller-manager',
    `--kubeconfig=${controllerManagerKubeconfig}`,
    '--secure-port=0',
    '--leader-elect=false',
    `--controllers=${CONTROLLERS.join(',')}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    '--concurrent-namespace-syncs=5',
    '--v=1',
  ]);
  opts.onSpawn?.(controllerManager.pid);
  // The service-account controller creating `default` in `default` shows the controllers run.
  const controllersRunning = () =>
    apiRequest(pki, opts.port, '/api/v1/namespaces/default/serviceaccounts/default').then((r) => r.status === 200);
  await waitFor(`${opts.name} kube-controller-manager`, controllersRunning, {
    timeoutMs,
    process: controllerManager,
  });

  return {
    name: opts.name,
    port: opts.port,
    server,
    kubeconfig,
    caCert: pki.caCert,
    caKey: pki.caKey,
    apiserverPid: apiserver.pid,
    controllerManagerPid: controllerManager.pid,
  };
}

export async function clusterHealthy(state: ClusterState): Promise<boolean> {
  const pki = {
    caCert: state.caCert,
    adminCert: path.join(path.dirname(state.caCert), 'admin.crt'),
    adminKey: path.join(path.dirname(state.caCert), 'admin.key'),
  };
  return apiRequest(pki, state.port, '/readyz')
    .then((r) => r.status === 200)
    .catch(() => false);
}
