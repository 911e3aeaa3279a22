import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';

// two Node processes, each firing 300 concurrent checks at one key with limit 100: exactly 100
// are admitted in total, for every algorithm and for a two-policy decision, 10 trials each. One process
// decides through ioredis, the other through node-redis: both clients, and both together on one key.

const redisUp = await hasSharedRedis();
const worker = fileURLToPath(new URL('./workers/contender.ts', import.meta.url));

describe.skipIf(!redisUp)('accuracy across processes (exactness)', () => {
  let shared: SharedRedis;
  const children: ChildProcess[] = [];
  let next = 0;
  const pending = new Map<number, (v: { allowed: number; sources: string[] }) => void>();

  beforeAll(async () => {
    shared = await sharedRedis('rl-c1');
    for (let i = 0; i < 2; i++) {
      const child = fork(worker, [shared.url, shared.prefix, '1', '2000', i === 0 ? 'ioredis' : 'node-redis'], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`contender exited with ${code}`)));
        child.on('message', (m: 'ready' | { id: number; allowed: number; sources: string[] }) => {
          if (m === 'ready') resolve();
          else pending.get(m.id)?.(m);
        });
      });
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of children) {
      c.removeAllListeners('exit');
      if (c.connected) c.send('exit');
    }
    await shared?.cleanup();
  });

  const ask = (child: ChildProcess, key: string, config: string) =>
    new Promise<{ allowed: number; sources: string[] }>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      child.send({ id, key, config, attempts: 300 });
    });

  it.each(['fixed', 'sliding', 'gcra', 'two-policy'])(
    '%s: 2 processes x 300 concurrent attempts, limit 100 -> exactly 100 admitted, 10 of 10 trials',
    async (config) => {
      const totals: number[] = [];
      for (let trial = 0; trial < 10; trial++) {
        const key = `${config}-${trial}`;
        const [a, b] = await Promise.all(children.map((c) => ask(c, key, config)));
        expect([...a!.sources, ...b!.sources].every((s) => s === 'redis' || s === 'local-block')).toBe(true);
        totals.push(a!.allowed + b!.allowed);
      }
      expect(totals).toEqual(Array(10).fill(100));
    },
  );
});
