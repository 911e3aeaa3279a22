// Request-validation overhead on a JSON POST, against the same route with a hand-written schema.parse.
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { interleave, measureThroughput, median, type Measurement } from '@org/bench';

const BODY = JSON.stringify({
  name: 'Welcome series',
  status: 'active',
  steps: [
    { type: 'send_email' },
    { type: 'wait', delaySeconds: 3600 },
    { type: 'send_sms' },
    { type: 'wait', delaySeconds: 86_400 },
    { type: 'webhook' },
  ],
  tags: ['onboarding', 'email', 'sms'],
});

interface Run extends Measurement {
  cpuUsPerReq: number;
}

export interface ValidationResult {
  variants: Record<string, { reqPerSec: number; p50Ms: number; p99Ms: number; cpuUsPerReq: number; ratios: number[] }>;
  rounds: number;
  durationMs: number;
  concurrency: number;
}

export async function benchValidation(rounds = 5, durationMs = 3_000, concurrency = 32): Promise<ValidationResult> {
  const child = fork(new URL('./server.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    child.once('message', (m: { ports: Record<string, number> }) => resolve(m.ports));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const cpu = () =>
    new Promise<{ user: number; system: number }>((resolve) => {
      child.once('message', (m: { cpu: { user: number; system: number } }) => resolve(m.cpu));
      child.send({ cmd: 'cpu' });
    });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let failures = 0;
  const post = (path: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: ports[path],
          path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
        },
        (res) => {
          if (res.statusCode !== 201) failures++;
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(BODY);
    });

  const variant = (path: string) => async (): Promise<Run> => {
    const before = await cpu();
    const m = await measureThroughput(() => post(path), { concurrency, durationMs, warmupMs: 300 });
    const after = await cpu();
    return { ...m, cpuUsPerReq: (after.user + after.system - before.user - before.system) / m.ops };
  };
  const names = {
    'hand-written schema.parse': '/manual',
    '@org/openapi (response validation off)': '/org',
    '@org/openapi (response validation strict)': '/org-strict',
  };
  // Warm every route's JIT before the first timed round.
  for (const path of Object.values(names))
    await measureThroughput(() => post(path), { concurrency, durationMs: 800, warmupMs: 0 });
  const runs = await interleave(
    rounds,
    Object.fromEntries(Object.entries(names).map(([name, path]) => [name, variant(path)])),
  );
  child.send({ cmd: 'stop' });
  agent.destroy();
  if (failures > 0) throw new Error(`${failures} requests did not answer 201`);
  const baseline = runs['hand-written schema.parse']!;
  const variants: ValidationResult['variants'] = {};
  for (const [name, r] of Object.entries(runs)) {
    variants[name] = {
      reqPerSec: median(r.map((x) => x.opsPerSec)),
      p50Ms: median(r.map((x) => x.p50Ms)),
      p99Ms: median(r.map((x) => x.p99Ms)),
      cpuUsPerReq: median(r.map((x) => x.cpuUsPerReq)),
      // Per-round ratio to the baseline of the same round, so drift between rounds cancels out.
      ratios: r.map((x, i) => x.opsPerSec / baseline[i]!.opsPerSec),
    };
  }
  return { variants, rounds, durationMs, concurrency };
}
