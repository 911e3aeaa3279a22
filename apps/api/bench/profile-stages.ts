// Aggregates a V8 CPU profile (node --cpu-prof) of the API into pipeline stages. Each sample is charged to the stage
// of the frame nearest to the leaf that belongs to a stage (walking leaf to root): a sample in zlib called by the
// compression middleware is compression, a sample in res.setHeader called by helmet is security headers. Frames of
// the bundled app (dist/main.js) are mapped back to their src/ file through the source map.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A stage and how its frames are recognised: by package / file path (after source mapping) or function name. */
export const STAGES: readonly { name: string; match: RegExp }[] = [
  {
    name: 'request id + access log',
    match:
      /\/(pino-http|pino|pino-std-serializers|sonic-boom|fast-redact|@pinojs\/redact|thread-stream|on-exit-leak-free|fast-safe-stringify|safe-stable-stringify|quick-format-unescaped|atomic-sleep)\/|src\/http\/request-context\.ts|src\/observability\/logger\.ts/,
  },
  // Before the middlewares that wrap res.end / res.writeHead: writing headers and bytes is Node's, whoever wrapped it.
  { name: 'node HTTP response (headers, socket writes)', match: /^node:_http_outgoing|^node:_http_server/ },
  { name: 'security headers + CORS', match: /\/(helmet|cors|vary|object-assign)\// },
  { name: 'compression', match: /\/(compression|compressible|negotiator|on-headers|bytes)\/|node:zlib/ },
  {
    name: 'metrics (@org/metrics, prom-client)',
    match: /\/(metrics\/dist|prom-client|tdigest|bintrees)\/|src\/observability\/metrics\.ts/,
  },
  {
    name: 'rate limiter (@org/tiered-rate-limit)',
    match: /tiered-rate-limit\/dist\/|src\/http\/rate-limit\.ts|src\/auth\/credential-failures\.ts/,
  },
  {
    name: 'principal lookup (auth, pg)',
    match:
      /src\/auth\/|\/(pg|pg-pool|pg-protocol|pg-types|postgres-array|postgres-date|postgres-interval|postgres-bytea|pgpass|pg-connection-string)\/|src\/db\//,
  },
  { name: 'cache (@org/cache) + workflow service', match: /cache\/dist\/|src\/cache\/|src\/workflows\/|src\/ghl\// },
  {
    name: 'JSON serialization + send',
    match: /src\/http\/cached-json\.ts|src\/routes\/workflows\.ts|openapi\/dist\/|\/zod\//,
  },
  {
    name: 'body parsing',
    match: /\/(body-parser|raw-body|type-is|media-typer|content-type|iconv-lite|mime-types|mime-db)\//,
  },
  {
    name: 'express (router, request, response)',
    match:
      /\/(express|router|finalhandler|send|serve-static|parseurl|path-to-regexp|encodeurl|escape-html|statuses|depd|on-finished|ee-first|cookie|cookie-signature|qs|fresh|etag|range-parser|proxy-addr|forwarded|ipaddr\.js|accepts|content-disposition|merge-descriptors|http-errors|setprototypeof|toidentifier|inherits|debug|ms|mime)\/|src\/http\/|src\/routes\//,
  },
];

/**
 * Frames that belong to whoever called them: Node's own modules (sockets, streams, timers) and the Redis client (used
 * by both the rate limiter and the cache). A sample with no stage frame above them is charged to their own row: e.g.
 * parsing Redis replies or HTTP requests as they arrive.
 */
export const SHARED: readonly { name: string; match: RegExp }[] = [
  {
    name: 'Redis client (replies, shared by rate limiter and cache)',
    match: /\/(ioredis|redis-parser|redis-errors|cluster-key-slot|denque|standard-as-callback)\//,
  },
  { name: 'node runtime (HTTP parser, sockets, streams, timers, microtasks)', match: /^node:|^ / },
];

/** `(garbage collector)`, `(program)`: charged to their own rows; `(idle)` is dropped. */
const SPECIAL: Record<string, string | null> = {
  '(garbage collector)': 'GC',
  '(program)': 'V8 / native (program)',
  '(idle)': null,
  '(root)': null,
};

function sourceMapOf(url: string, cache: Map<string, SourceMap | undefined>): SourceMap | undefined {
  if (cache.has(url)) return cache.get(url);
  let map: SourceMap | undefined;
  try {
    const path = fileURLToPath(url);
    map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as never);
  } catch {
    map = undefined;
  }
  cache.set(url, map);
  return map;
}

/**
 * CPU time per stage in µs. `window` (profile clock, µs: the same monotonic clock as process.hrtime) keeps only the
 * samples taken inside it, e.g. the measured load run.
 */
export function aggregateProfile(profile: CpuProfile, window?: { from: number; to: number }): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const maps = new Map<string, SourceMap | undefined>();
  const frameName = (n: ProfileNode): string => {
    const { url, lineNumber, columnNumber, functionName } = n.callFrame;
    if (url.startsWith('file://') && url.includes('/apps/api/dist/')) {
      const entry = sourceMapOf(url, maps)?.findEntry(lineNumber, columnNumber) as
        | { originalSource?: string }
        | undefined;
      if (entry?.originalSource) return `${entry.originalSource} ${functionName}`;
    }
    return `${url} ${functionName}`;
  };
  const ownStage = (n: ProfileNode): string | undefined => {
    const name = frameName(n);
    return STAGES.find((s) => s.match.test(name))?.name;
  };
  // The nearest stage frame from the leaf; frames of no stage (node internals, V8 builtins) take their caller's.
  const nearest = (id: number): string | null => {
    let cur: number | undefined = id;
    const leaf = byId.get(id)!;
    if (leaf.callFrame.url === '' && leaf.callFrame.functionName in SPECIAL)
      return SPECIAL[leaf.callFrame.functionName]!;
    let shared: string | undefined;
    while (cur !== undefined) {
      const node = byId.get(cur)!;
      const own = ownStage(node);
      if (own) return own;
      shared ??= SHARED.find((g) => g.match.test(frameName(node)))?.name;
      cur = parent.get(cur);
    }
    return shared ?? 'other';
  };
  const totals = new Map<string, number>();
  let t = profile.startTime;
  const memo = new Map<number, string | null>();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window.from || t > window.to)) continue;
    const id = profile.samples[i]!;
    let stage = memo.get(id);
    if (stage === undefined) memo.set(id, (stage = nearest(id)));
    if (stage === null) continue;
    // A sample stands for the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? delta;
    totals.set(stage, (totals.get(stage) ?? 0) + weight);
  }
  return totals;
}

/** The top self-time frames of a stage (for the notes under the table). */
export function topFrames(
  profile: CpuProfile,
  limit = 25,
  window?: { from: number; to: number },
): { frame: string; us: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const maps = new Map<string, SourceMap | undefined>();
  const self = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window && (t < window.from || t > window.to)) continue;
    const n = byId.get(profile.samples[i]!)!;
    const { url, lineNumber, columnNumber, functionName } = n.callFrame;
    if (functionName === '(idle)') continue;
    let where = url.replace(/^.*node_modules\//, '');
    if (url.includes('/apps/api/dist/')) {
      const entry = sourceMapOf(url, maps)?.findEntry(lineNumber, columnNumber) as
        | { originalSource?: string; originalLine?: number }
        | undefined;
      if (entry?.originalSource)
        where = `${entry.originalSource.replace(/^.*\/src\//, 'src/')}:${(entry.originalLine ?? 0) + 1}`;
    }
    const key = `${functionName || '(anonymous)'} ${where}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, us]) => ({ frame, us }));
}

/** Every row `aggregateProfile` can report, in table order. */
export function stageNames(): string[] {
  return [...STAGES.map((s) => s.name), ...SHARED.map((s) => s.name), 'GC', 'V8 / native (program)', 'other'];
}

// `tsx bench/profile-stages.ts <file.cpuprofile>`: the stage table of a profile taken by hand.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as CpuProfile;
  const totals = aggregateProfile(profile);
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  for (const name of stageNames())
    console.log(`${((100 * (totals.get(name) ?? 0)) / all).toFixed(1).padStart(5)} %  ${name}`);
}
