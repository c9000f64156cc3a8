/**
 * The DCM as a real process (`node --import tsx src/main.ts`): it refuses to start outside
 * development mode without authentication (exit code 2, naming the variables) or with a bad
 * token file; configured, it enforces the tokens and guards /metrics with its own token.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { testEncryptionKey } from '../support/dcm.js';
import { runServiceProcessToExit, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { TOKENS, writeTokenFile } from './auth-fixtures.js';

const METRICS_TOKEN = 'metrics-scraper-7d1c9e3a5b8f2d6c';

describe('start-up with authentication', () => {
  const database = uniqueDatabaseName('auth_startup');
  const production = { MONGO_URL: mongoUrl(), DCM_DATABASE: database, DCM_ENCRYPTION_KEYS: testEncryptionKey };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-startup-'));
  const tokens = writeTokenFile();

  afterAll(async () => {
    tokens.remove();
    fs.rmSync(dir, { recursive: true, force: true });
    const mongo = await MongoClient.connect(mongoUrl());
    await mongo
      .db(database)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
  });

  it('refuses to run outside development mode without a token file or an OIDC issuer', async () => {
    const { code, output } = await runServiceProcessToExit('no-auth', production);
    expect(code).toBe(2);
    expect(output).toMatch(
      /no authentication is configured: set DCM_AUTH_TOKENS_FILE \(static bearer tokens\) and\/or DCM_OIDC_ISSUER with DCM_OIDC_AUDIENCE/,
    );
  });

  it('refuses a token file with a bad entry, naming the file and the field', async () => {
    const bad = path.join(dir, 'bad-tokens.yaml');
    fs.writeFileSync(bad, '- { name: root, role: admin, token: short }\n');
    const { code, output } = await runServiceProcessToExit('bad-tokens', { ...production, DCM_AUTH_TOKENS_FILE: bad });
    expect(code).toBe(2);
    expect(output).toContain(`${bad}: [0].token: must be at least 16 characters`);
  });

  it('refuses an OIDC issuer without an audience', async () => {
    const { code, output } = await runServiceProcessToExit('no-audience', {
      ...production,
      DCM_OIDC_ISSUER: 'https://idp.example',
    });
    expect(code).toBe(2);
    expect(output).toContain('DCM_OIDC_ISSUER is set but DCM_OIDC_AUDIENCE is not');
  });

  describe('configured', () => {
    let dcm: ServiceProcess;

    beforeAll(async () => {
      const metricsTokenFile = path.join(dir, 'metrics-token');
      fs.writeFileSync(metricsTokenFile, `${METRICS_TOKEN}\n`);
      dcm = await startServiceProcess('with-auth', {
        ...production,
        DCM_AUTH_TOKENS_FILE: tokens.file,
        DCM_METRICS_TOKEN_FILE: metricsTokenFile,
      });
    });

    afterAll(async () => {
      await dcm?.stop();
    });

    it('enforces the token file on the API and keeps health open', async () => {
      expect((await dcm.http.get('/healthz')).status).toBe(200);
      expect((await dcm.http.get('/v2/projects')).status).toBe(401);
      expect((await dcm.http.get('/v2/projects').set('Authorization', `Bearer ${TOKENS.admin}`)).status).toBe(200);
      expect((await dcm.http.get('/v2/projects').set('Authorization', `Bearer ${TOKENS.team1}`)).body).toEqual([]);
    });

    it('guards /metrics with its own token (an API token does not open it)', async () => {
      const anonymous = await dcm.http.get('/metrics');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      expect((await dcm.http.get('/metrics').set('Authorization', `Bearer ${TOKENS.admin}`)).status).toBe(401);
      const scraped = await dcm.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
      expect(scraped.status).toBe(200);
      expect(scraped.text).toMatch(/^dcm_http_requests_total\{method="GET",route="\/v2\/projects",status="200"\} 2$/m);
    });

    it('never writes a token to its log', async () => {
      const log = dcm.logText();
      expect(log).toMatch(/"msg":"request refused"/);
      for (const token of [METRICS_TOKEN, ...Object.values(TOKENS)]) expect(log).not.toContain(token);
    });
  });
});
