/**
 * The `openssl` binary as an independent judge of the DCM's certificates: a temporary
 * directory to write PEMs into, and `openssl` run there.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface OpensslResult {
  code: number | null;
  output: string;
}

export class OpensslWorkspace {
  readonly dir: string;
  private files = 0;

  constructor(prefix: string) {
    if (spawnSync('openssl', ['version']).status !== 0) throw new Error('the openssl binary is needed');
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  }

  /** Writes `content` to a new file of the workspace; its path. */
  file(content: string): string {
    const p = path.join(this.dir, `f${this.files++}.pem`);
    fs.writeFileSync(p, content);
    return p;
  }

  run(args: string[]): OpensslResult {
    const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: this.dir });
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
  }

  /** `openssl verify -CAfile <root> [-untrusted <intermediates>] <pem>`. */
  verify(rootPem: string, pem: string, untrusted: string[] = []): OpensslResult {
    const args = ['verify', '-CAfile', this.file(rootPem)];
    if (untrusted.length > 0) args.push('-untrusted', this.file(untrusted.join('')));
    return this.run([...args, this.file(pem)]);
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The certificates of a PEM bundle, in order. */
export const pemsOf = (bundle: string): string[] =>
  bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
