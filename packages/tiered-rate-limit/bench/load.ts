// Closed-loop HTTP load generator (no wrk/autocannon on this machine): `connections` keep-alive
// sockets, each sending the next request when the previous answer arrived. Runs in its own process.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

interface Job {
  url: string;
  connections: number;
  durationMs: number;
  warmupMs: number;
  headers: Record<string, string>;
}

async function run(job: Job) {
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
  const target = new URL(job.url);
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, agent, headers: job.headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  const drive = async (ms: number, latencies?: number[], statuses?: Map<number, number>) => {
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: job.connections }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          const status = await once();
          latencies?.push(performance.now() - t);
          statuses?.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
  };
  await drive(job.warmupMs);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  await drive(job.durationMs, latencies, statuses);
  const wall = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? Number.NaN;
  return { rps: (latencies.length / wall) * 1000, p50: pct(50), p99: pct(99), statuses: Object.fromEntries(statuses) };
}

process.on('message', async (m: Job | 'exit') => {
  if (m === 'exit') process.exit(0);
  process.send!(await run(m));
});
process.send!('ready');
