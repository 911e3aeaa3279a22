/*
 * Analyzer benchmark: is the analysis linear in the number of steps, and how many fixture
 * workflows per second does it analyse? Run: pnpm --filter api bench:analyzer
 * Each analysis includes the Zod validation of the definition, as in the CLI and the API.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { interleave, markdownTable, measureThroughput, medianOf, versionsOf, type Measurement } from '@org/bench';
import { analyzeAccount, analyzeWorkflow } from '../src/analysis/index.js';

const LOCATION = 'benchLocation0000001';

/**
 * A definition of about `n` steps built from a repeating block that uses every graph feature:
 * messages, waits, an if/else with both anchors, tags, a webhook and, at the end, a go-to back to
 * the start (one large cycle through waits, so the cycle search walks the whole graph).
 */
function generate(n: number): unknown {
  const steps: Record<string, unknown>[] = [];
  const blocks = Math.max(1, Math.floor(n / 10));
  for (let b = 0; b < blocks; b++) {
    const id = (k: string) => `b${b}-${k}`;
    const next = b + 1 < blocks ? `b${b + 1}-sms` : 'goto-start';
    steps.push(
      {
        id: id('sms'),
        type: 'sms',
        name: `SMS ${b}`,
        attributes: {
          body: `Hi {{contact.first_name}}, update ${b}: {{custom_values.booking_link}} Reply STOP to opt out.`,
        },
        next: id('wait'),
      },
      {
        id: id('wait'),
        type: 'wait',
        name: 'Wait',
        attributes: { type: 'time', startAfter: { type: 'hours', value: 4, when: 'after' } },
        next: id('email'),
      },
      {
        id: id('email'),
        type: 'email',
        name: `Email ${b}`,
        attributes: { subject: `Update ${b}`, html: `<p>Week ${b} news</p>`, from_email: 'hi@bench.test' },
        next: id('if'),
      },
      {
        id: id('if'),
        type: 'if_else',
        nodeType: 'condition-node',
        name: 'Replied?',
        attributes: {
          branches: [
            {
              id: id('yes'),
              segments: [
                {
                  conditions: [
                    {
                      conditionType: 'contact_detail',
                      conditionSubType: 'tags',
                      conditionOperator: 'index-of-true',
                      conditionValue: ['replied'],
                    },
                  ],
                },
              ],
            },
          ],
        },
        next: [id('yes'), id('no')],
      },
      {
        id: id('yes'),
        type: 'if_else',
        nodeType: 'branch-yes',
        parent: id('if'),
        name: 'Yes',
        attributes: {},
        next: id('tag'),
      },
      {
        id: id('tag'),
        type: 'add_contact_tag',
        name: 'Tag',
        attributes: { tags: [`engaged-${b}`] },
        next: id('field'),
      },
      {
        id: id('field'),
        type: 'update_contact_field',
        name: 'Field',
        attributes: { fields: [{ field: 'cfA', value: 'yes' }] },
      },
      {
        id: id('no'),
        type: 'if_else',
        nodeType: 'branch-no',
        parent: id('if'),
        name: 'None',
        attributes: {},
        next: id('hook'),
      },
      {
        id: id('hook'),
        type: 'webhook',
        name: 'Hook',
        attributes: { method: 'POST', url: `https://hooks.bench.test/${b}` },
        next: id('note'),
      },
      {
        id: id('note'),
        type: 'internal_notification',
        name: 'Note',
        attributes: { notification: { title: 'Lead', body: 'x', userIds: ['usr1'] } },
        next,
      },
    );
  }
  steps.push({ id: 'goto-start', type: 'goto', name: 'Again', attributes: { type: 'goto', targetNodeId: 'b0-sms' } });
  return {
    id: `wf-${n}`,
    locationId: LOCATION,
    name: `Generated ${n}`,
    status: 'published',
    allowMultiple: false,
    stopOnResponse: true,
    window: { days: [1, 2, 3, 4, 5], startHour: 9, startMinute: 0, endHour: 19, endMinute: 0 },
    senderAddress: { fromEmail: 'hi@bench.test' },
    triggers: [
      {
        id: 't1',
        type: 'form_submission',
        name: 'Form',
        active: true,
        conditions: [{ field: 'form.id', operator: 'is-any-of', value: ['form1'] }],
        targetActionId: 'b0-sms',
      },
    ],
    workflowData: { templates: steps },
  };
}

const sizes = [50, 500, 5000];
const definitions = new Map(sizes.map((n) => [n, generate(n)]));
const stepCount = (n: number) =>
  (definitions.get(n) as { workflowData: { templates: unknown[] } }).workflowData.templates.length;

const fixtureDir = join(import.meta.dirname, '../fakes/ghl/workflows');
const fixtureFiles = readdirSync(fixtureDir).filter(
  (f) => f.endsWith('.json') && !f.startsWith('_') && f !== 'expected.json',
);
const fixtures = fixtureFiles.map((f) => JSON.parse(readFileSync(join(fixtureDir, f), 'utf8')) as unknown);
const inventory = JSON.parse(readFileSync(join(fixtureDir, '_locations.json'), 'utf8')) as unknown;

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5);
const durationMs = Number(process.env['BENCH_DURATION_MS'] ?? 700);

const candidates: Record<string, () => Promise<Measurement>> = {};
for (const n of sizes)
  candidates[`steps-${n}`] = () =>
    measureThroughput(() => analyzeWorkflow(definitions.get(n)), { durationMs, warmupMs: 150 });
candidates['fixtures-account'] = () =>
  measureThroughput(() => analyzeAccount(fixtures, { inventory }), { durationMs, warmupMs: 150 });
candidates['fixtures-single'] = () =>
  measureThroughput(
    () => {
      for (const f of fixtures) analyzeWorkflow(f);
    },
    { durationMs, warmupMs: 150 },
  );

const started = Date.now();
const runs = await interleave(rounds, candidates);

const perStepUs = new Map<number, number>();
const sizeRows = sizes.map((n) => {
  const opsPerSec = medianOf(runs[`steps-${n}`]!, (r) => r.opsPerSec);
  const msPerAnalysis = 1000 / opsPerSec;
  const us = (msPerAnalysis * 1000) / stepCount(n);
  perStepUs.set(n, us);
  return [`${stepCount(n)}`, msPerAnalysis, us, medianOf(runs[`steps-${n}`]!, (r) => r.p99Ms)];
});
const linearity = perStepUs.get(5000)! / perStepUs.get(500)!;

const accountOps = medianOf(runs['fixtures-account']!, (r) => r.opsPerSec);
const singleOps = medianOf(runs['fixtures-single']!, (r) => r.opsPerSec);
const versions = await versionsOf(['zod'], import.meta.url);

console.log(
  `\nAnalyzer benchmark: Node ${process.version}, zod ${versions['zod']}, ${rounds} interleaved rounds of ${durationMs} ms, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
);
console.log(markdownTable(['steps', 'ms per analysis (median)', 'µs per step', 'p99 ms'], sizeRows));
console.log(
  `\nTime per step at 5,000 steps / at 500 steps: ${linearity.toFixed(2)}x (target: within 2x) ${linearity <= 2 ? 'PASS' : 'FAIL'}\n`,
);
console.log(
  markdownTable(
    ['fixtures (12 workflows)', 'runs per second', 'workflow analyses per second'],
    [
      ['whole folder as one account (cross-workflow + inventory rules)', accountOps, accountOps * fixtures.length],
      ['each workflow alone', singleOps, singleOps * fixtures.length],
    ],
  ),
);
if (linearity > 2) process.exitCode = 1;
