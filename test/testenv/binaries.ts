/**
 * Builds the Go test binaries once per version into the cache outside the clone, and
 * installs etcd from Debian's package when it is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FERRETDB_VERSION, ISTIO_MODULE_VERSION, KUBERNETES_VERSION, paths } from './layout.js';

function log(message: string): void {
  console.error(`[testenv] ${message}`);
}

/** Builds `pkg` (default: the wrapper module's own main package) of the module in sourceDir. */
function goBuild(what: string, sourceDir: string, output: string, ldflags: string, pkg = '.'): void {
  if (fs.existsSync(output)) return;
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const started = Date.now();
  log(`building ${what} (first time only; cached at ${output}) …`);
  const tmp = `${output}.${process.pid}.tmp`;
  const result = spawnSync('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', tmp, pkg], {
    cwd: sourceDir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`building ${what} failed (go build exit ${result.status ?? result.signal})`);
  }
  fs.renameSync(tmp, output);
  log(`built ${what} in ${Math.round((Date.now() - started) / 1000)} s`);
}

export function ensureKubeBinary(): string {
  const [major, minor] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
  const flags = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(
      `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
    );
  }
  goBuild(`kube ${KUBERNETES_VERSION}`, paths.kubeSource, paths.kubeBinary, flags.join(' '));
  return paths.kubeBinary;
}

export function ensureFerretdbBinary(): string {
  goBuild(`FerretDB ${FERRETDB_VERSION}`, paths.ferretdbSource, paths.ferretdbBinary, '-s -w');
  return paths.ferretdbBinary;
}

/**
 * istiod's binary (`pilot-discovery`) of istio.io/istio as pinned by test/testenv/istio: built
 * the first time a mesh test asks for it (about 5–10 minutes cold on 2 cores), then cached.
 */
export function ensurePilotDiscoveryBinary(): string {
  goBuild(
    `pilot-discovery (istio.io/istio ${ISTIO_MODULE_VERSION})`,
    paths.istioSource,
    paths.pilotDiscoveryBinary,
    '-s -w',
    'istio.io/istio/pilot/cmd/pilot-discovery',
  );
  return paths.pilotDiscoveryBinary;
}

function which(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function ensureEtcd(): string {
  const explicit = process.env.ETCD_BINARY;
  if (explicit) return explicit;
  const found = which('etcd');
  if (found) return found;
  log("installing etcd from Debian's etcd-server package …");
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) =>
    execFileSync(sudo[0] ?? args[0]!, sudo.length ? args : args.slice(1), { stdio: 'inherit', env });
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'etcd-server']);
  const installed = which('etcd');
  if (!installed) throw new Error('etcd-server was installed but no etcd is on PATH');
  return installed;
}

export function findMongod(): string | undefined {
  return process.env.MONGOD_BINARY || which('mongod');
}
