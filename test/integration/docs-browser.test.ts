/**
 * The API page as a person sees it (issue 28 item 8): `/docs` opened in a real headless Chromium
 * (Debian's `chromium`, driven by playwright-core) renders the document with no warning or error box,
 * and "Try it out" → "Execute" on a GET answers 200 in the page.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestDcm, type TestDcm } from '../support/dcm.js';

/** The Chromium to drive: `CHROMIUM` when set, else Debian's (`apt-get install chromium`, as .ci/run does). */
function chromiumBinary(): string {
  const candidates = process.env.CHROMIUM
    ? [process.env.CHROMIUM]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];
  const found = candidates.find((path) => existsSync(path));
  if (!found)
    throw new Error(
      `no Chromium for the browser test: looked for ${candidates.join(', ')}. ` +
        "Install Debian's (`apt-get install -y --no-install-recommends chromium`, as .ci/run does) or set CHROMIUM to a Chromium binary.",
    );
  return found;
}

describe('/docs in a real browser', () => {
  let t: TestDcm;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  let shots: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const executablePath = chromiumBinary();
    t = await startTestDcm('docs_browser');
    server = await new Promise<Server>((resolve) => {
      const s = t.dcm.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
    shots = mkdtempSync(join(tmpdir(), 'dcm-docs-browser-'));
  });

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
    await t?.close();
    if (shots && !process.env.DCM_TEST_KEEP_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
  });

  it('renders the document with no warning or error box', async () => {
    // A name the list will show once Execute has run.
    expect((await t.http.post('/v2/projects').send({ metadata: { name: 'docs-proj' } })).status).toBe(201);

    await page.goto(`${base}/docs/`);
    // The document is rendered: its title and the operations of every tag.
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Distributed Cloud Manager' }).waitFor();
    await page.locator('#operations-Projects-getProjects').waitFor();
    const shot = join(shots, 'docs.png');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(0);
    expect(await page.locator('.opblock').count()).toBeGreaterThan(40);
    // Swagger UI's red box ("Errors", e.g. an unsupported jsonSchemaDialect) and its parser/validation messages.
    expect(await page.locator('.swagger-ui .errors-wrapper').allInnerTexts()).toEqual([]);
    expect(await page.locator('.swagger-ui .errors').allInnerTexts()).toEqual([]);
    expect(await page.locator('.swagger-ui .loading-container').count()).toBe(0);
    expect(await page.getByText(/not supported|failed to load|could not render|resolver error/i).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it("shows a body's schema and the design's example (Create a logical cloud)", async () => {
    const operation = page.locator('.opblock-post').filter({
      has: page.locator('.opblock-summary-path', { hasText: /^\/v2\/projects\/\{project\}\/logical-clouds$/ }),
    });
    await operation.locator('.opblock-summary').first().click();
    const example = operation.locator('.opblock-section-request-body .highlight-code').first();
    await example.waitFor();
    expect(JSON.parse(await example.innerText())).toEqual(expect.objectContaining({ spec: expect.anything() }));
    await operation.locator('.opblock-section-request-body button[data-name="model"]').click();
    const model = operation.locator('.opblock-section-request-body .model-box').first();
    await model.waitFor();
    expect(await model.innerText()).toMatch(/metadata/);
    expect(await operation.locator('.responses-table .response-col_status').allInnerTexts()).toEqual(
      expect.arrayContaining(['201', '400', '413']),
    );
    expect(await page.getByText(/could not render|resolver error/i).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await operation.locator('.opblock-summary').first().click();
  });

  it('declares 413 on every operation that takes a body, and answers a body beyond the limit with it', async () => {
    const doc = (await t.http.get('/openapi.json')).body as {
      jsonSchemaDialect?: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    // OpenAPI 3.1's default dialect (JSON Schema 2020-12 with OpenAPI's vocabulary): the only one Swagger UI takes.
    expect(doc.jsonSchemaDialect).toBeUndefined();
    const withBody = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody !== undefined)
        .map(([method, op]) => ({ path, method, declares413: '413' in op.responses })),
    );
    expect(withBody.length).toBeGreaterThanOrEqual(15);
    expect(withBody.filter((op) => !op.declares413)).toEqual([]);
    // The attack Schemathesis makes: a body over the limit (this DCM's is 1 MB) is refused as declared, nothing stored.
    const huge = { metadata: { name: 'huge-proj', description: 'x'.repeat(2 * 1024 * 1024) } };
    const refused = await t.http.post('/v2/projects').send(huge);
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({ name: 'InvalidRequestBody', message: 'request body is too large', details: [] });
    expect((await t.http.get('/v2/projects/huge-proj')).status).toBe(404);
  });

  it('Try it out → Execute on "List projects" shows a 200 with the projects', async () => {
    const operation = page.locator('#operations-Projects-getProjects');
    await operation.locator('.opblock-summary').first().click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();
    const live = operation.locator('.live-responses-table tr.response .response-col_status').first();
    await live.waitFor();
    expect((await live.innerText()).trim()).toBe('200');
    // The request went to this DCM (the page's origin) and its body is the list.
    expect(await operation.locator('.request-url').innerText()).toContain(`${base}/v2/projects`);
    expect(
      await operation.locator('.live-responses-table tr.response .response-col_description').first().innerText(),
    ).toContain('docs-proj');
    await operation.locator('.live-responses-table').screenshot({ path: join(shots, 'execute.png') });
    expect(await page.locator('.swagger-ui .errors-wrapper').allInnerTexts()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
