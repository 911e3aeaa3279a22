// Bounded resources: progress streams are capped per location (429 beyond), imports are capped per location with only
// the newest versions kept, and a validation error lists at most 50 problems with the total. Over HTTP against
// src/main.ts; the streams test runs the `api` role on Redis with no worker, so that jobs stay queued.
import { canStartRedis, hasSharedPostgres, startRedis, type PrivateRedis } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LOCATION, DEMO_WORKFLOW, startSecurityApp, type SecurityApp } from '../support/security-app.js';

const pgUp = await hasSharedPostgres();
const redisOk = await canStartRedis();

const definition = (id: string, version = 1) => ({
  id,
  locationId: DEMO_LOCATION,
  name: `Imported ${id}`,
  status: 'draft',
  version,
  allowMultiple: false,
  stopOnResponse: false,
  triggers: [],
  workflowData: { templates: [{ id: 's1', type: 'sms', name: 'SMS', attributes: { body: 'Hi' } }] },
});

describe.skipIf(!pgUp || !redisOk)('progress streams (GET /jobs/:id/events) are capped per location', () => {
  let redis: PrivateRedis;
  let app: SecurityApp;
  let cookie: string;
  beforeAll(async () => {
    redis = await startRedis();
    app = await startSecurityApp('sec_streams', { REDIS_URL: redis.url }, ['--role', 'api']);
    cookie = await app.login();
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('five streams open; the sixth gets 429 TOO_MANY_STREAMS; closing one makes room again', async () => {
    const queued = await fetch(`${app.base}/api/analyze`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ workflowId: DEMO_WORKFLOW, async: true }),
    });
    expect(queued.status).toBe(202);
    const { jobId } = ((await queued.json()) as { data: { jobId: string } }).data;
    const open = (signal: AbortSignal) =>
      fetch(`${app.base}/api/jobs/${jobId}/events`, { headers: { cookie }, signal });
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    try {
      for (const c of controllers) expect((await open(c.signal)).status).toBe(200);
      const extra = new AbortController();
      const refused = await open(extra.signal);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_STREAMS');

      controllers.shift()!.abort();
      let again: Response | undefined;
      for (let i = 0; i < 50 && again?.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const c = new AbortController();
        again = await open(c.signal);
        if (again.status === 200) controllers.push(c);
        else await again.arrayBuffer();
      }
      expect(again?.status).toBe(200);
    } finally {
      for (const c of controllers) c.abort();
    }
  }, 60_000);
});

describe.skipIf(!pgUp)('imports and validation errors are bounded', () => {
  let app: SecurityApp;
  let cookie: string;
  const importDef = (body: unknown) =>
    fetch(`${app.base}/api/workflows/import`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  beforeAll(async () => {
    app = await startSecurityApp('sec_imports');
    // Enterprise: 500 requests a minute, so the import cap (not the rate limit) is what the test meets.
    await app.pg.pool.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, 'cus_imports', 'active', 'enterprise')",
      [DEMO_LOCATION],
    );
    cookie = await app.login();
  }, 120_000);
  afterAll(async () => app?.stop());

  it('a location holds at most 500 imported workflows (409 WORKFLOW_LIMIT_REACHED beyond), and new versions of those still import', async () => {
    // 495 through the database (the same rows the route writes), the last 5 over HTTP.
    await app.pg.pool.query(
      `INSERT INTO workflow_definitions (location_id, workflow_id, version, name, source, definition)
       SELECT $1, 'bulk-' || i, 1, 'bulk', 'import', $2::jsonb FROM generate_series(1, 495) AS i`,
      [DEMO_LOCATION, JSON.stringify(definition('bulk'))],
    );
    for (let i = 0; i < 5; i++) expect((await importDef(definition(`http-${i}`))).status).toBe(201);
    const over = await importDef(definition('one-too-many'));
    expect(over.status).toBe(409);
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe('WORKFLOW_LIMIT_REACHED');
    expect((await importDef(definition('http-0', 2))).status).toBe(201);
  }, 60_000);

  it('only the 10 newest versions of a workflow are kept', async () => {
    for (let v = 1; v <= 12; v++) expect((await importDef(definition('http-1', v))).status).toBe(201);
    const { rows } = await app.pg.pool.query(
      "SELECT array_agg(version ORDER BY version) AS versions FROM workflow_definitions WHERE location_id = $1 AND workflow_id = 'http-1'",
      [DEMO_LOCATION],
    );
    expect(rows[0].versions).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  }, 60_000);

  it('a definition with thousands of problems gets 400 with 50 of them and the total, not a response of megabytes', async () => {
    const res = await importDef({
      ...definition('many-problems'),
      workflowData: { templates: Array.from({ length: 999 }, () => ({})) },
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text.length).toBeLessThan(20_000);
    const { issues } = (JSON.parse(text) as { error: { issues: { path: string; message: string }[] } }).error;
    expect(issues).toHaveLength(51);
    expect(issues.at(-1)!.message).toMatch(/more problems not listed \(\d+ in total\)/);
  });
});
