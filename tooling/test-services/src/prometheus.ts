import { spawnSync } from 'node:child_process';
import { unavailable } from './availability.js';
import { which } from './process.js';

/** Path of Debian's `prometheus` or `promtool`; under CI a missing one throws instead of answering undefined. */
export function prometheusBinary(name: 'promtool' | 'prometheus'): string | undefined {
  return (
    which(name, ['/usr/bin', '/usr/local/bin']) ??
    (unavailable(name, `${name} is not installed (apt-get install -y prometheus)`) || undefined)
  );
}

/** Runs promtool with `input` on stdin; returns its exit code and everything it printed. */
export function promtool(args: string[], input?: string): { code: number; output: string } {
  const bin = prometheusBinary('promtool');
  if (!bin) throw new Error('promtool is not installed');
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** One sample of an instant query. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A private Prometheus server on a free loopback port with its own temporary data folder. */
export interface PrivatePrometheus {
  /** Base URL of its HTTP API, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Everything it printed so far. */
  logs(): string;
  /** An instant query through the HTTP API; throws with Prometheus's error for an invalid expression. */
  query(expr: string): Promise<PromSample[]>;
  /** Stops the server (SIGTERM, then waits) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's `prometheus` with `scrapeConfigs` (YAML list items under `scrape_configs:`, already indented by
 * two spaces) scraping every second. `files` are written next to the config first (e.g. a bearer token file).
 */
export async function startPrometheus(options: {
  scrapeConfigs: string[];
  files?: Record<string, string>;
}): Promise<PrivatePrometheus> {
  const bin = prometheusBinary('prometheus');
  if (!bin) throw new Error('prometheus is not installed');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { freePort, startProcess, waitFor } = await import('./process.js');
  const dir = mkdtempSync(join(tmpdir(), 'org-prometheus-'));
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), content);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }',
      'scrape_configs:',
      ...options.scrapeConfigs,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { child, output } = startProcess(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `prometheus on ${url}`,
      async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
      30_000,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output()}`, { cause: error });
  }
  return {
    url,
    logs: output,
    async query(expr) {
      const body = (await (await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`)).json()) as {
        status: string;
        error?: string;
        data?: { result: PromSample[] };
      };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      return body.data!.result;
    },
    stop,
  };
}
