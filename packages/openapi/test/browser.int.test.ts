import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, VALID_SESSION, createExampleApp } from './example-app.js';
import { listen } from '@org/test-services';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ci = process.env.CI === 'true' || process.env.CI === '1';
const available = existsSync(CHROMIUM);
if (!available) {
  if (ci) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package for this test`);
  console.warn(`Skipping the browser test: no Chromium at ${CHROMIUM}`);
}

describe.skipIf(!available)('Swagger UI in headless Chromium (offline, CSP script-src self)', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let context: BrowserContext;
  let profile: string;
  const requests: string[] = [];
  const serverHits: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const { app } = createExampleApp();
    app.set('trust proxy', false);
    const counting = (await import('express')).default();
    counting.use((req, _res, next) => {
      serverHits.push(`${req.method} ${req.originalUrl}`);
      next();
    });
    counting.use(app);
    server = await listen(counting);
    profile = mkdtempSync(join(tmpdir(), 'org-openapi-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context.on('request', (request) => requests.push(request.url()));
    await context.addCookies([{ name: SESSION_COOKIE, value: VALID_SESSION, url: server.url }]);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('lists the operations, runs "Try it out" / "Execute" on a GET and shows the real response', async () => {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    const response = await page.goto(`${server.url}/api-docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    const operations = page.locator('.opblock');
    await operations.first().waitFor({ timeout: 30_000 });
    expect(await operations.count()).toBe(7);
    await expect
      .poll(() => page.locator('.opblock-summary-path').allInnerTexts())
      .toEqual(expect.arrayContaining(['/workflows', '/workflows/{id}', '/contacts', '/status']));

    const op = page.locator('#operations-workflows-listWorkflows');
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    const before = serverHits.filter((h) => h.startsWith('GET /api/workflows')).length;
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    expect((await status.innerText()).trim()).toBe('200');
    await expect
      .poll(() => op.locator('.live-responses-table tbody .response-col_description').first().innerText())
      .toContain('Welcome series');
    // The response shown came from the app (a real request, not an example).
    expect(serverHits.filter((h) => h.startsWith('GET /api/workflows')).length).toBe(before + 1);
    // Examples from Zod .meta({ example }) are what the docs show for a request body.
    const create = page.locator('#operations-workflows-createWorkflow');
    await create.locator('.opblock-summary').click();
    await expect
      .poll(() => create.locator('.opblock-section-request-body').innerText(), { timeout: 30_000 })
      .toContain('Welcome series');
    if (process.env.OPENAPI_SCREENSHOT)
      await page.screenshot({ path: process.env.OPENAPI_SCREENSHOT, fullPage: false });
    await page.close();
  }, 90_000);

  it('made no request outside the app origin and hit no CSP violation', () => {
    expect(requests.length).toBeGreaterThan(3);
    const foreign = requests.filter((url) => !url.startsWith(`${server.url}/`) && !url.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused/i.test(e))).toEqual([]);
  });
});
