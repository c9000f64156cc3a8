/**
 * Authentication set-up: the token file (its validation, hashes, constant-time lookup), the
 * start-up decision (refused outside development mode without a token source or issuer) and
 * the gate's answers to Authorization values.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { DEVELOPMENT_PRINCIPAL } from '../../src/auth/authorize.js';
import { AuthError } from '../../src/auth/errors.js';
import { AccessGate } from '../../src/auth/gate.js';
import { AuthConfigError, loadAuth, loadMetricsToken } from '../../src/auth/setup.js';
import { parseTokenFile, tokenFingerprint } from '../../src/auth/static-tokens.js';
import { defaultConfig } from '../../src/config.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const TEAM_TOKEN = 'team-token-0123456789abcdef';
const hex = (text: string) => createHash('sha256').update(text).digest('hex');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-auth-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

const ctx = { transport: 'http' as const, requestId: 'r-1', method: 'GET', path: '/v2/projects' };

describe('token file', () => {
  it('reads YAML with a token or its sha256, and finds each caller by its token only', () => {
    const tokens = parseTokenFile(
      [
        `- { name: root, token: ${ADMIN_TOKEN}, role: admin }`,
        `- { name: team-1, sha256: ${hex(TEAM_TOKEN)}, role: project, projects: [p1, p2] }`,
        `- { name: tenant-1, token: tenant-token-0123456789, role: project, logicalClouds: [p1/lc-1] }`,
      ].join('\n'),
      'tokens.yaml',
    );
    expect(tokens.size).toBe(3);
    expect(tokens.lookup(ADMIN_TOKEN)).toMatchObject({ name: 'root', admin: true, source: 'token' });
    const team = tokens.lookup(TEAM_TOKEN)!;
    expect({ name: team.name, admin: team.admin, projects: [...team.projects] }).toEqual({
      name: 'team-1',
      admin: false,
      projects: ['p1', 'p2'],
    });
    expect([...tokens.lookup('tenant-token-0123456789')!.logicalClouds]).toEqual(['p1/lc-1']);
    expect(tokens.lookup(hex(TEAM_TOKEN))).toBeUndefined();
    expect(tokens.lookup(`${ADMIN_TOKEN}x`)).toBeUndefined();
    expect(tokens.lookup('')).toBeUndefined();
  });

  it('reads the same list as JSON', () => {
    const tokens = parseTokenFile(JSON.stringify([{ name: 'root', token: ADMIN_TOKEN, role: 'admin' }]), 'tokens.json');
    expect(tokens.lookup(ADMIN_TOKEN)?.name).toBe('root');
  });

  it.each([
    ['not a list', 'name: root', /tokens\.yaml: the file: .*array/i],
    ['an empty list', '[]', /at least one token/],
    ['neither token nor sha256', '- { name: a, role: admin }', /\[0\]\.token: give exactly one of token and sha256/],
    [
      'both token and sha256',
      `- { name: a, role: admin, token: ${ADMIN_TOKEN}, sha256: ${hex(ADMIN_TOKEN)} }`,
      /\[0\]\.token: give exactly one/,
    ],
    ['a short token', '- { name: a, role: admin, token: short }', /\[0\]\.token: must be at least 16 characters/],
    [
      'a bad sha256',
      '- { name: a, role: admin, sha256: abc }',
      /\[0\]\.sha256: must be the sha256 of the token: 64 hex digits/,
    ],
    ['an unknown role', `- { name: a, role: root, token: ${ADMIN_TOKEN} }`, /\[0\]\.role/],
    [
      'a project role without scope',
      `- { name: a, role: project, token: ${ADMIN_TOKEN} }`,
      /\[0\]\.projects: role project needs projects or logicalClouds/,
    ],
    [
      'an admin with projects',
      `- { name: a, role: admin, token: ${ADMIN_TOKEN}, projects: [p1] }`,
      /role admin may do everything/,
    ],
    [
      'a bad logical cloud',
      `- { name: a, role: project, token: ${ADMIN_TOKEN}, logicalClouds: [lc-1] }`,
      /\[0\]\.logicalClouds\[0\]: must be project\/logical-cloud/,
    ],
    ['an unknown field', `- { name: a, role: admin, token: ${ADMIN_TOKEN}, secret: x }`, /secret/],
    [
      'a name used twice',
      `- { name: a, role: admin, token: ${ADMIN_TOKEN} }\n- { name: a, role: admin, token: ${TEAM_TOKEN} }`,
      /the name a is used twice/,
    ],
    [
      'a token used twice',
      `- { name: a, role: admin, token: ${ADMIN_TOKEN} }\n- { name: b, role: admin, sha256: ${hex(ADMIN_TOKEN)} }`,
      /b and a have the same token/,
    ],
    ['broken YAML', '- { name: a', /tokens\.yaml: not valid YAML or JSON/],
  ])('refuses %s, naming the problem', (_what, text, message) => {
    expect(() => parseTokenFile(text, 'tokens.yaml')).toThrow(AuthConfigError);
    expect(() => parseTokenFile(text, 'tokens.yaml')).toThrow(message);
  });

  it('never keeps a token in a message or a fingerprint', () => {
    expect(() => parseTokenFile(`- { name: a, role: project, token: ${ADMIN_TOKEN} }`, 'f')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(ADMIN_TOKEN) }),
    );
    expect(tokenFingerprint(ADMIN_TOKEN)).toBe(hex(ADMIN_TOKEN).slice(0, 8));
  });
});

describe('loadAuth: the start-up decision', () => {
  const config = (over: Partial<ReturnType<typeof defaultConfig>>) => ({ ...defaultConfig(), ...over });

  it('refuses to run outside development mode without a token file or an OIDC issuer, naming the variables', () => {
    expect(() => loadAuth(config({ DCM_DEVELOPMENT_MODE: false }))).toThrow(AuthConfigError);
    expect(() => loadAuth(config({ DCM_DEVELOPMENT_MODE: false }))).toThrow(
      /no authentication is configured: set DCM_AUTH_TOKENS_FILE .* DCM_OIDC_ISSUER with DCM_OIDC_AUDIENCE/,
    );
  });

  it('runs without authentication only in development mode with nothing configured', () => {
    expect(loadAuth(config({ DCM_DEVELOPMENT_MODE: true }))).toEqual({ mode: 'development' });
  });

  it('enforces a configured token file, also in development mode', () => {
    const tokens = file('tokens.yaml', `- { name: root, token: ${ADMIN_TOKEN}, role: admin }\n`);
    for (const dev of [true, false]) {
      const setup = loadAuth(config({ DCM_DEVELOPMENT_MODE: dev, DCM_AUTH_TOKENS_FILE: tokens }));
      expect(setup.mode).toBe('enforced');
    }
  });

  it('names a token file that cannot be read, and a bad entry with its file', () => {
    expect(() => loadAuth(config({ DCM_AUTH_TOKENS_FILE: path.join(dir, 'missing.yaml') }))).toThrow(
      /DCM_AUTH_TOKENS_FILE .*missing\.yaml cannot be read: ENOENT/,
    );
    const bad = file('bad.yaml', '- { name: root, role: admin }\n');
    expect(() => loadAuth(config({ DCM_AUTH_TOKENS_FILE: bad }))).toThrow(/bad\.yaml: \[0\]\.token/);
  });

  it('needs an audience with an issuer, and an issuer with an audience or JWKS URL', () => {
    expect(() => loadAuth(config({ DCM_OIDC_ISSUER: 'https://idp.example' }))).toThrow(
      /DCM_OIDC_ISSUER is set but DCM_OIDC_AUDIENCE is not/,
    );
    expect(() => loadAuth(config({ DCM_OIDC_AUDIENCE: 'dcm' }))).toThrow(/DCM_OIDC_ISSUER is not/);
    expect(loadAuth(config({ DCM_OIDC_ISSUER: 'https://idp.example', DCM_OIDC_AUDIENCE: 'dcm' })).mode).toBe(
      'enforced',
    );
  });

  it('reads the /metrics token from its file, refusing a weak one', () => {
    expect(loadMetricsToken({ DCM_METRICS_TOKEN_FILE: undefined })).toBeUndefined();
    expect(loadMetricsToken({ DCM_METRICS_TOKEN_FILE: file('metrics', 'metrics-token-0123456789\n') })).toBe(
      'metrics-token-0123456789',
    );
    expect(() => loadMetricsToken({ DCM_METRICS_TOKEN_FILE: file('weak', 'short') })).toThrow(/at least 16 characters/);
  });
});

describe('AccessGate', () => {
  const logger = pino({ level: 'silent' });
  const tokens = parseTokenFile(`- { name: root, token: ${ADMIN_TOKEN}, role: admin }`, 't');
  const gate = new AccessGate({ mode: 'enforced', tokens }, logger);

  const refusal = async (header: string | undefined) => {
    try {
      await gate.authenticate(header, ctx);
    } catch (error) {
      return error as AuthError;
    }
    throw new Error('expected a refusal');
  };

  it('accepts a known bearer token, the scheme in any case', async () => {
    expect((await gate.authenticate(`Bearer ${ADMIN_TOKEN}`, ctx)).name).toBe('root');
    expect((await gate.authenticate(`bearer  ${ADMIN_TOKEN}`, ctx)).name).toBe('root');
  });

  it.each([
    [undefined, /authentication required/, undefined],
    ['', /authentication required/, undefined],
    [`Basic ${ADMIN_TOKEN}`, /must be "Bearer <token>"/, undefined],
    ['Bearer', /must be "Bearer <token>"/, undefined],
    ['Bearer not-a-known-token-at-all', /the bearer token is not valid/, 'invalid_token'],
    ['Bearer a.b.c', /the bearer token is not valid/, 'invalid_token'],
  ])('refuses %p as unauthenticated', async (header, message, bearerError) => {
    const error = await refusal(header);
    expect(error).toBeInstanceOf(AuthError);
    expect({ failure: error.failure, bearerError: error.bearerError }).toEqual({
      failure: 'unauthenticated',
      bearerError,
    });
    expect(error.message).toMatch(message);
  });

  it('in development mode names every caller "development", an admin, whatever it sends', async () => {
    const dev = new AccessGate({ mode: 'development' }, logger);
    expect(await dev.authenticate(undefined, ctx)).toBe(DEVELOPMENT_PRINCIPAL);
    expect(await dev.authenticate('Bearer whatever', ctx)).toBe(DEVELOPMENT_PRINCIPAL);
    expect(dev.enforced).toBe(false);
  });

  it('throws PermissionDenied with the reason when the rules deny', async () => {
    const team = parseTokenFile(`- { name: team-1, token: ${TEAM_TOKEN}, role: project, projects: [p1] }`, 't').lookup(
      TEAM_TOKEN,
    )!;
    expect(() => gate.authorize(team, { resource: 'project', project: 'p1', operation: 'read' }, ctx)).not.toThrow();
    expect(() => gate.authorize(team, { resource: 'project', project: 'p2', operation: 'read' }, ctx)).toThrow(
      expect.objectContaining({
        failure: 'permission-denied',
        message: 'permission denied: team-1 may not read project p2',
      }),
    );
  });
});
