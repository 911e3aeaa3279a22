/*
 * Hostile inputs for the analyzer: one definition per adversarial string (repeated `<`, `<!--`, `[X `,
 * `{{custom_values.`...) in the copy fields the rules scan, timed per analysis (validation included).
 * Run: pnpm --filter api exec tsx bench/analyzer-hostile.ts [size] [module]
 * `module` is the analysis entry to load (default: this checkout's src/analysis/index.ts), so the same inputs can be
 * timed against another checkout.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const size = Number(process.argv[2] ?? 65_000);
const modulePath = resolve(process.argv[3] ?? new URL('../src/analysis/index.ts', import.meta.url).pathname);
const { analyzeWorkflow } = (await import(pathToFileURL(modulePath).href)) as {
  analyzeWorkflow: (input: unknown) => { score: number };
};

/** `unit` repeated up to `size` characters. */
const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

export const HOSTILE_UNITS = [
  '<',
  '<!--',
  '[X ',
  '[insert ',
  '[your ',
  '{{custom_values.',
  '{{ custom_values.a',
  '[A ',
  '{{',
];

function definition(text: string): unknown {
  return {
    id: 'hostile-1',
    locationId: 'benchLocation0000001',
    name: 'hostile',
    status: 'published',
    version: 1,
    allowMultiple: false,
    stopOnResponse: false,
    triggers: [],
    workflowData: {
      templates: [
        { id: 'e1', type: 'email', name: 'Email', attributes: { subject: 'hi', html: text, body: text }, next: 's1' },
        { id: 's1', type: 'sms', name: 'SMS', attributes: { body: text }, next: 'w1' },
        { id: 'w1', type: 'webhook', name: 'Hook', attributes: { url: text } },
      ],
    },
  };
}

// Warm up (module loading, JIT) on a harmless definition, so the first row times the input, not the start.
analyzeWorkflow(definition('hello'));
const rows: string[] = [];
for (const unit of HOSTILE_UNITS) {
  const input = definition(fill(unit));
  const started = performance.now();
  let outcome: string;
  try {
    outcome = `score ${analyzeWorkflow(input).score}`;
  } catch (error) {
    outcome = `refused (${(error as { code?: string }).code ?? (error as Error).message})`;
  }
  rows.push(
    `| ${JSON.stringify(unit)} x ${size} chars | ${(performance.now() - started).toFixed(1)} ms | ${outcome} |`,
  );
}
console.log(`| input | time | outcome |\n|---|---|---|\n${rows.join('\n')}`);
