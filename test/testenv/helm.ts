/**
 * Helm for the chart test: `go install helm.sh/helm/v3/cmd/helm@HELM_VERSION` from the Go
 * module proxy, once per version, into the cache outside the clone
 * (`~/.cache/dcm-testenv/helm-<version>/helm`, or under DCM_TESTENV_CACHE), so that a fresh
 * clone on the same machine reuses it. Helm's own go.mod has no replace directives, so no
 * wrapper module is needed; the go.sum of the release is checked against the checksum
 * database like any other `go install pkg@version`.
 *
 * v3.19.x is the Helm line built with the Kubernetes v0.34 libraries (the test clusters run
 * v1.34) and whose go.mod still says `go 1.24.0`, the Go the README asks for.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cacheRoot, KUBERNETES_VERSION } from './layout.js';

export const HELM_VERSION = 'v3.19.5';

export const helmBinaryPath = (): string => path.join(cacheRoot, `helm-${HELM_VERSION}`, 'helm');

function log(message: string): void {
  console.error(`[testenv] ${message}`);
}

/**
 * The helm binary of HELM_VERSION, built on first use (a few minutes on 2 cores with an
 * empty Go cache). `HELM_BINARY` uses a helm of your own instead.
 */
export function ensureHelmBinary(): string {
  const explicit = process.env.HELM_BINARY;
  if (explicit) return explicit;
  const output = helmBinaryPath();
  if (fs.existsSync(output)) return output;

  const dir = path.dirname(output);
  fs.mkdirSync(dir, { recursive: true });
  // go install writes into GOBIN; a directory per process keeps concurrent builds apart,
  // and the rename at the end publishes a complete binary or nothing.
  const gobin = fs.mkdtempSync(path.join(dir, `.build-${process.pid}-`));
  const [major, minor] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
  // What helm's Makefile sets: its version, and the Kubernetes version `helm template` and
  // `helm lint` assume when they talk to no cluster (otherwise v1.20).
  const ldflags = [
    '-s',
    '-w',
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${major}`,
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}`,
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${major}`,
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}`,
  ].join(' ');
  const started = Date.now();
  log(`building helm ${HELM_VERSION} (first time only; cached at ${output}) …`);
  try {
    const result = spawnSync(
      'go',
      ['install', '-trimpath', '-ldflags', ldflags, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`],
      {
        cwd: dir,
        stdio: ['ignore', 'inherit', 'inherit'],
        env: {
          ...process.env,
          GOBIN: gobin,
          // A pure-Go static binary, as helm's releases are; no C toolchain needed.
          CGO_ENABLED: '0',
          // The module and its go.sum come from the proxy, whatever -mod the environment sets.
          GOFLAGS: '-mod=mod',
          GOPROXY: process.env.GOPROXY || 'https://proxy.golang.org,direct',
        },
      },
    );
    if (result.error) throw new Error(`building helm ${HELM_VERSION} needs Go (${result.error.message})`);
    if (result.status !== 0)
      throw new Error(`building helm ${HELM_VERSION} failed (go install exit ${result.status ?? result.signal})`);
    fs.renameSync(path.join(gobin, 'helm'), output);
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
  log(`built helm ${HELM_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`);
  return output;
}
