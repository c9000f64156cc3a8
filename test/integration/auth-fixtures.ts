/**
 * Shared by the auth-* and metrics-audit integration tests (not a test file itself): a
 * token file (a Secret as it would be mounted), a DCM that enforces it, composed exactly as
 * main.ts composes one (loadAuth from configuration), and a logger the test reads back.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { loadAuth } from '../../src/auth/setup.js';
import { defaultConfig } from '../../src/config.js';
import { captureLogger, startTestDcm, type TestDcm } from '../support/dcm.js';

export const TOKENS = {
  admin: 'admin-0b1e5d9c2f6a4e8b9d3c7a1f',
  team1: 'team1-6c2d8e0f4a9b3c7d1e5f2a8b',
  /** Listed in the file by its sha256 only. */
  team2: 'team2-9f3a7c1e5b2d8f4a6c0e9b3d',
  tenant: 'tenant-4e8a2c6f0b9d3e7a1c5f8b2d',
} as const;

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The token file: an admin, a caller of project p1, one of p2 (by hash), and the tenant of p1/lc-1. */
export function writeTokenFile(): { file: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-tokens-'));
  const file = path.join(dir, 'tokens.yaml');
  fs.writeFileSync(
    file,
    [
      `- name: root`,
      `  token: ${TOKENS.admin}`,
      `  role: admin`,
      `- name: team-1`,
      `  token: ${TOKENS.team1}`,
      `  role: project`,
      `  projects: [p1]`,
      `- name: team-2`,
      `  sha256: ${sha256Hex(TOKENS.team2)}`,
      `  role: project`,
      `  projects: [p2]`,
      `- name: tenant-1`,
      `  token: ${TOKENS.tenant}`,
      `  role: project`,
      `  logicalClouds: [p1/lc-1]`,
      '',
    ].join('\n'),
  );
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface AuthTestDcm extends TestDcm {
  /** An HTTP client that sends `Authorization: Bearer <token>` with every request. */
  as(token: string): ReturnType<typeof supertest>;
  logs: ReturnType<typeof captureLogger>;
}

/** A DCM enforcing the token file, with a logger the test reads. */
export async function startAuthDcm(prefix: string, options: { metricsToken?: string } = {}): Promise<AuthTestDcm> {
  const tokens = writeTokenFile();
  const logs = captureLogger('info');
  try {
    const auth = loadAuth({ ...defaultConfig(), DCM_DEVELOPMENT_MODE: false, DCM_AUTH_TOKENS_FILE: tokens.file });
    const t = await startTestDcm(prefix, { auth, logger: logs.logger, ...options });
    return {
      ...t,
      logs,
      as: (token) => supertest.agent(t.dcm.app).set('Authorization', `Bearer ${token}`),
    };
  } finally {
    // Read once at start-up, like a mounted Secret.
    tokens.remove();
  }
}

/**
 * An admin lifts every bound of a project's policy (what the auth tests exercise is the access
 * rules, not the tenant boundary, which test/integration/tenant-boundary.test.ts covers).
 */
export async function allowEverything(admin: ReturnType<typeof supertest>, project: string): Promise<void> {
  const all = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];
  const res = await admin.put(`/v2/projects/${project}/policy`).send({
    spec: {
      clusters: { providers: ['provider-1'] },
      allowAdminLevel: true,
      namespacedCeiling: all,
      clusterWide: { allowed: true, ceiling: all },
    },
  });
  if (res.status !== 200) throw new Error(`policy of ${project}: ${res.status} ${res.text}`);
}
