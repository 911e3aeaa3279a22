// pnpm --filter @org/openapi bench: document build and validation overhead, competitors in the same run.
import os from 'node:os';
import { markdownTable, median, ratio, versionsOf } from '@org/bench';
import { benchDocument } from './document.js';
import { benchValidation } from './validation.js';

const versions = await versionsOf(
  ['zod', 'express', 'openapi3-ts', '@asteasolutions/zod-to-openapi', 'zod-openapi'],
  import.meta.url,
);
console.log(`# @org/openapi bench, ${new Date().toISOString()}`);
console.log(
  `Node ${process.version}, ${os.cpus().length} CPUs, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `Versions: ${Object.entries(versions)
    .map(([n, v]) => `${n} ${v}`)
    .join(', ')}\n`,
);

const doc = await benchDocument(Number(process.env.O6_ROUNDS ?? 7), Number(process.env.O6_PER_ROUND ?? 9));
const asteas = doc.medians['@asteasolutions/zod-to-openapi']!;
const zodOpenapi = doc.medians['zod-openapi']!;
const ours = doc.medians['@org/openapi']!;
console.log(`## Build a 100-route document (median of ${doc.samples} builds each, interleaved rounds)\n`);
console.log(
  markdownTable(
    ['library', 'median ms', 'vs zod-to-openapi', 'vs zod-openapi', 'JSON bytes'],
    Object.entries(doc.medians).map(([name, ms]) => [
      name,
      ms,
      ratio(ms, asteas),
      ratio(ms, zodOpenapi),
      doc.sizes[name]!,
    ]),
  ),
);
const o6 = ours / asteas <= 0.5 && ours <= zodOpenapi;
console.log(
  `\nO6 target (<= 0.50x zod-to-openapi and <= 1.00x zod-openapi): ${o6 ? 'MET' : 'NOT MET'} (${ratio(ours, asteas)}, ${ratio(ours, zodOpenapi)})\n`,
);

const val = await benchValidation(Number(process.env.O8_ROUNDS ?? 7), Number(process.env.O8_DURATION_MS ?? 3000));
const base = val.variants['hand-written schema.parse']!;
console.log(
  `## JSON POST with body validation (${val.rounds} interleaved rounds x ${val.durationMs} ms, ${val.concurrency} connections, server in a child process)\n`,
);
console.log(
  markdownTable(
    [
      'variant',
      'req/s (median)',
      'req/s ratio (median of per-round ratios)',
      'p50 ms',
      'p99 ms',
      'server CPU us/req',
      'CPU ratio',
    ],
    Object.entries(val.variants).map(([name, v]) => [
      name,
      v.reqPerSec,
      `${median(v.ratios).toFixed(2)}x`,
      v.p50Ms,
      v.p99Ms,
      v.cpuUsPerReq,
      ratio(v.cpuUsPerReq, base.cpuUsPerReq),
    ]),
  ),
);
const off = val.variants['@org/openapi (response validation off)']!;
const o8 = median(off.ratios) >= 0.9;
console.log(
  `\nO8 target (req/s >= 0.90x hand-written, same work: response validation off): ${o8 ? 'MET' : 'NOT MET'} (${median(off.ratios).toFixed(2)}x; per round ${off.ratios.map((r) => r.toFixed(2)).join(', ')})`,
);
