import { performance } from 'node:perf_hooks';

/** What one timed run of one candidate produced. */
export interface Measurement {
  /** Completed operations. */
  ops: number;
  opsPerSec: number;
  /** Latency percentiles of single operations, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Wall time of the run, in milliseconds. */
  wallMs: number;
}

export interface ThroughputOptions {
  /** Operations kept in flight at once. @default 1 */
  concurrency?: number;
  /** How long to measure. @default 1000 */
  durationMs?: number;
  /** Untimed run before measuring, to warm the JIT and connections. @default 200 */
  warmupMs?: number;
}

/** The p-th percentile (0-100) of `values` by nearest rank; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

async function drive(
  op: () => unknown,
  concurrency: number,
  durationMs: number,
  latencies: number[] | undefined,
): Promise<number> {
  const deadline = performance.now() + durationMs;
  let ops = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      await op();
      latencies?.push(performance.now() - started);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ops;
}

/** Runs `op` with `concurrency` operations in flight for `durationMs` and measures it. */
export async function measureThroughput(op: () => unknown, options: ThroughputOptions = {}): Promise<Measurement> {
  const { concurrency = 1, durationMs = 1000, warmupMs = 200 } = options;
  if (warmupMs > 0) await drive(op, concurrency, warmupMs, undefined);
  const latencies: number[] = [];
  const started = performance.now();
  const ops = await drive(op, concurrency, durationMs, latencies);
  const wallMs = performance.now() - started;
  return {
    ops,
    opsPerSec: (ops / wallMs) * 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    wallMs,
  };
}

/**
 * Runs every candidate once per round, rotating the order each round so that drift of a noisy
 * machine (thermal, neighbours) spreads evenly over all candidates. Returns each one's runs.
 */
export async function interleave<T>(
  rounds: number,
  candidates: Record<string, () => Promise<T>>,
): Promise<Record<string, T[]>> {
  const names = Object.keys(candidates);
  const results: Record<string, T[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!;
      results[name]!.push(await candidates[name]!());
    }
  }
  return results;
}

/** Median of a field over the runs of one candidate. */
export function medianOf<T>(runs: readonly T[], field: (run: T) => number): number {
  return median(runs.map(field));
}

/** `a / b` rounded for a table, e.g. `1.23x`. */
export function ratio(a: number, b: number, digits = 2): string {
  return `${(a / b).toFixed(digits)}x`;
}

/** A GitHub-flavoured Markdown table, ready for a README. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number) => (typeof v === 'number' ? formatNumber(v) : v);
  const lines = [headers, headers.map(() => '---'), ...rows.map((r) => r.map(cell))];
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(Math.abs(n) >= 1 ? 2 : 3);
}

/** The versions of the named packages as installed for `fromDir`'s package, for the table's header. */
export async function versionsOf(names: readonly string[], fromUrl: string): Promise<Record<string, string>> {
  const { createRequire } = await import('node:module');
  const { readFileSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  const req = createRequire(fromUrl);
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      let dir = dirname(req.resolve(name));
      // Walk up to the package's own package.json (exports maps may hide it).
      for (let i = 0; i < 6; i++, dir = dirname(dir)) {
        try {
          const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
          if (pj.name === name && pj.version) {
            out[name] = pj.version;
            break;
          }
        } catch {
          // keep walking
        }
      }
    } catch {
      out[name] = 'not installed';
    }
  }
  return out;
}
