// No definition can stall the server: the analyzer is linear on adversarial strings, string fields are capped, and
// analyses run on worker threads with a time budget. The property runs the analyzer itself; the rest attacks
// src/main.ts over HTTP (20 concurrent hostile analyses while /live keeps answering).
import fc from 'fast-check';
import { hasSharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeWorkflow, InvalidDefinitionError } from '../../src/analysis/index.js';
import { DEMO_LOCATION, startSecurityApp, type SecurityApp } from '../support/security-app.js';

const pgUp = await hasSharedPostgres();

/** Units whose repetition made the old patterns quadratic (`<[^>]*>`, `<!--[\s\S]*?-->`, `\[X\b[^\]]*\]`, ...). */
const HOSTILE_UNITS = [
  '<',
  '<!--',
  '<a ',
  '[X ',
  '[insert ',
  '[your ',
  '[A ',
  '{{custom_values.',
  '{{ custom_values.a',
  '{{',
  '{{custom_values.a}',
  'lorem ',
];

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** A definition whose every scanned copy field (email, SMS, notification, task, webhook URL) holds `text`. */
function hostileDefinition(id: string, text: string): Record<string, unknown> {
  return {
    id,
    locationId: DEMO_LOCATION,
    name: 'hostile',
    status: 'published',
    version: 1,
    allowMultiple: false,
    stopOnResponse: false,
    triggers: [],
    workflowData: {
      templates: [
        {
          id: 'e1',
          type: 'email',
          name: 'Email',
          attributes: { subject: text.slice(0, 500), html: text, body: text },
          next: 's1',
        },
        { id: 's1', type: 'sms', name: 'SMS', attributes: { body: text }, next: 'n1' },
        {
          id: 'n1',
          type: 'internal_notification',
          name: 'Note',
          attributes: { notification: { title: 'x', body: text }, email: { subject: 'x', body: text } },
          next: 't1',
        },
        { id: 't1', type: 'task-notification', name: 'Task', attributes: { title: 'x', body: text }, next: 'w1' },
        { id: 'w1', type: 'webhook', name: 'Hook', attributes: { url: text } },
      ],
    },
  };
}

/** The same definition with `text` in one copy field only, so that it fits the 100 KB request body limit. */
function hostileOverHttp(id: string, text: string, field: number): Record<string, unknown> {
  const def = hostileDefinition(id, 'short copy');
  const templates = (def.workflowData as { templates: { attributes: Record<string, unknown> }[] }).templates;
  const places: [number, (a: Record<string, unknown>) => void][] = [
    [0, (a) => (a.html = text)],
    [1, (a) => (a.body = text)],
    [2, (a) => (a.notification = { title: 'x', body: text })],
    [3, (a) => (a.body = text)],
    [4, (a) => (a.url = text)],
  ];
  const [step, put] = places[field % places.length]!;
  put(templates[step]!.attributes);
  return def;
}

describe('the analyzer on adversarial strings (property)', () => {
  it('every analysis of a definition made of hostile 30-100 KB strings finishes (or is refused) in under 50 ms', () => {
    analyzeWorkflow(hostileDefinition('warm-up', 'hello')); // module and JIT warm-up, not timed
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...HOSTILE_UNITS), { minLength: 1, maxLength: 3 }),
        // Below the 64 KiB field cap (analysed) and above it (refused by the schema), up to the 100 KB body limit.
        fc.oneof(fc.integer({ min: 30_000, max: 65_536 }), fc.integer({ min: 65_537, max: 100_000 })),
        (units, size) => {
          const text = fill(units.join(''), size);
          // The best of three runs: a linear analysis stays far below 50 ms on a busy machine, a quadratic one (seconds
          // on these inputs) never gets there, however often it is run.
          // Each run's cost is the smaller of its wall time and the process CPU time it used: with both cores busy
          // the wall time also counts time this process waited for a core, the CPU time does not. A quadratic scan of
          // 100 KB costs seconds either way.
          let best = Infinity;
          for (let run = 0; run < 3 && best >= 50; run++) {
            const cpu = process.cpuUsage();
            const started = performance.now();
            try {
              analyzeWorkflow(hostileDefinition('hostile-prop', text));
            } catch (error) {
              // Above the field cap the schema refuses the definition: a clear 400, never a slow analysis.
              expect(error).toBeInstanceOf(InvalidDefinitionError);
            }
            const used = process.cpuUsage(cpu);
            best = Math.min(best, performance.now() - started, (used.user + used.system) / 1_000);
          }
          expect(best).toBeLessThan(50);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe.skipIf(!pgUp)('hostile definitions over HTTP (src/main.ts, worker-thread analyses)', () => {
  let app: SecurityApp;
  let cookie: string;
  const post = (path: string, body: unknown) =>
    fetch(`${app.base}${path}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    app = await startSecurityApp('sec_redos');
    // Enterprise limits, so that 20 analyses at once are within the tier (the limits are not what this test is about).
    await app.pg.pool.query(
      "INSERT INTO stripe_customers (location_id, customer_id, status, tier) VALUES ($1, 'cus_redos', 'active', 'enterprise')",
      [DEMO_LOCATION],
    );
    cookie = await app.login();
    // Warm-up, not timed: the worker threads load the analyzer and the JIT compiles it.
    for (let i = 0; i < 4; i++)
      expect((await post('/api/analyze', { definition: hostileOverHttp(`warm-${i}`, 'hello', i) })).status).toBe(200);
  }, 120_000);
  afterAll(async () => app?.stop());

  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };

  it('rounds of 20 concurrent hostile analyses: each gets an answer, and /live keeps its worst latency per round within 50 ms of the same load of ordinary analyses', async () => {
    const units = ['<', '<!--', '[X ', '{{custom_values.', '{{', '[insert '];
    const hostileBodies = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ definition: hostileOverHttp(`hostile-${i}`, fill(units[i % units.length]!, 65_000), i) }),
    );
    // The control, interleaved in the same run: the same requests with ordinary copy of the same size, so that what
    // the shared machine, 20 requests at once and parsing 1.3 MB of bodies cost the event loop anyway is measured
    // rather than guessed, and the difference is the hostile content's alone.
    const ordinary = 'Thanks for booking with us, {{contact.first_name}}. We look forward to seeing you soon. ';
    const benignBodies = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ definition: hostileOverHttp(`benign-${i}`, fill(ordinary, 65_000), i) }),
    );
    const ROUNDS = 12;
    // /live latencies per round; even rounds are the control, odd rounds the hostile ones.
    const samples: number[][] = Array.from({ length: ROUNDS }, () => []);
    const statuses = { hostile: [] as number[], control: [] as number[] };
    let round: number | undefined = 0;
    const probe = (async () => {
      while (round !== undefined) {
        const during = round;
        const started = performance.now();
        await (await fetch(`${app.base}/live`)).arrayBuffer();
        samples[during]!.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (let r = 0; r < ROUNDS; r++) {
      round = r;
      const phase = r % 2 ? 'hostile' : 'control';
      const bodies = phase === 'hostile' ? hostileBodies : benignBodies;
      const answers = await Promise.all(
        bodies.map((body) =>
          fetch(`${app.base}/api/analyze`, {
            method: 'POST',
            headers: { cookie, 'content-type': 'application/json' },
            body,
          }).then(async (res) => (await res.arrayBuffer(), res.status)),
        ),
      );
      statuses[phase].push(...answers);
    }
    round = undefined;
    await probe;
    expect(statuses.hostile).toEqual(Array(20 * (ROUNDS / 2)).fill(200));
    expect(statuses.control).toEqual(Array(20 * (ROUNDS / 2)).fill(200));
    // A content-dependent stall on the event loop shows in every hostile round; one pause of a shared machine (a
    // garbage collection, a core taken away) shows in one round of either kind. So each round is summed up by its
    // worst /live latency, and the typical (median) hostile round is compared with the typical control round.
    const worst = samples.map((s) => Math.max(...s));
    const hostile = worst.filter((_, r) => r % 2);
    const control = worst.filter((_, r) => !(r % 2));
    expect(samples.every((s) => s.length > 0)).toBe(true);
    console.info(
      `/live worst per round (ms), ${samples.flat().length} probes: hostile ${hostile.map((v) => v.toFixed(1)).join(' ')}; control ${control.map((v) => v.toFixed(1)).join(' ')}; medians ${median(hostile).toFixed(1)} and ${median(control).toFixed(1)}`,
    );
    // 50 ms is the budget of the hostile content's effect; the control absorbs what the machine and the load add anyway.
    expect(median(hostile)).toBeLessThan(50 + median(control));
  }, 120_000);

  it('a field above the cap (99,000 "<" in an email) is refused with 400, not analysed', async () => {
    const res = await post('/api/analyze', { definition: hostileOverHttp('hostile-big', fill('<', 99_000), 0) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; issues: { path: string; message: string }[] } };
    expect(body.error.code).toBe('INVALID_WORKFLOW_DEFINITION');
    expect(body.error.issues.some((i) => i.path.includes('html') && /at most/.test(i.message))).toBe(true);
  });

  it('a stored hostile definition does not stall later location-health calls', async () => {
    expect((await post('/api/workflows/import', hostileOverHttp('stored-hostile', fill('<', 65_000), 0))).status).toBe(
      201,
    );
    const started = performance.now();
    const res = await fetch(`${app.base}/api/locations/current/health`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

// 200 chained email steps with hostile copy (~90 KB, under the body limit): about 10 ms of analysis even with the
// analyzer warm, ten times a 1 ms budget. One 65 KB string alone was sometimes analysed within the budget.
function expensiveChain(id: string): Record<string, unknown> {
  const def = hostileDefinition(id, 'short copy');
  const templates = Array.from({ length: 200 }, (_, i) => ({
    id: `e${i}`,
    type: 'email',
    name: `Email ${i}`,
    attributes: { subject: 'x', html: '<'.repeat(170), body: '[X '.repeat(56) },
    ...(i < 199 ? { next: `e${i + 1}` } : {}),
  }));
  return { ...def, workflowData: { templates } };
}

describe.skipIf(!pgUp)('the per-analysis time budget (ANALYSIS_TIME_BUDGET_MS)', () => {
  let app: SecurityApp;
  beforeAll(async () => {
    app = await startSecurityApp('sec_budget', { ANALYSIS_TIME_BUDGET_MS: '1' });
  }, 120_000);
  afterAll(async () => app?.stop());

  it('an analysis that overruns it fails with 422 ANALYSIS_TIME_BUDGET_EXCEEDED, and the server keeps serving', async () => {
    const cookie = await app.login();
    const res = await fetch(`${app.base}/api/analyze`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ definition: expensiveChain('slow-1') }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ANALYSIS_TIME_BUDGET_EXCEEDED');
    expect((await fetch(`${app.base}/live`)).status).toBe(200);
    expect((await fetch(`${app.base}/api/workflows`, { headers: { cookie } })).status).toBe(200);
  }, 30_000);
});
