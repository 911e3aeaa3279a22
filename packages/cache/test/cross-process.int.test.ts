import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasSharedRedis, sharedRedis, type SharedRedis } from '@org/test-services';

// Two real child processes share the shared Redis (isolated by prefix): single-flight must hold
// across them, and near-cache invalidations must reach the other process.
const redisUp = await hasSharedRedis();
const worker = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

interface Child {
  process: ChildProcess;
  next<T>(type: string): Promise<T>;
  send(message: unknown): void;
}

function spawnWorker(env: Record<string, string>): Child {
  const child = fork(worker, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: { type: string }[] = [];
  const waiting: { type: string; resolve: (m: never) => void }[] = [];
  child.on('message', (m: { type: string }) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m as never);
    else inbox.push(m);
  });
  return {
    process: child,
    send: (message) => child.send(message as never),
    next<T>(type: string) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as T);
      return new Promise<T>((resolve, reject) => {
        waiting.push({ type, resolve: resolve as (m: never) => void });
        child.once('exit', (code) => reject(new Error(`worker exited with ${code} before sending ${type}`)));
      });
    },
  };
}

describe.skipIf(!redisUp)('two processes sharing Redis', () => {
  let redis: SharedRedis;
  let children: Child[] = [];
  let round = 0;
  beforeAll(async () => {
    redis = await sharedRedis('cache-xproc');
  });
  afterAll(() => redis?.cleanup());
  afterEach(async () => {
    for (const c of children) {
      c.send({ cmd: 'exit' });
      await new Promise((r) => (c.process.exitCode !== null ? r(null) : c.process.once('exit', r)));
    }
    children = [];
  });

  // The single-flight assertions are about the lock, not the 50 ms command deadline: with both cores busy a lock
  // command can miss that deadline, and a waiter then computes the value itself (the documented degradation).
  async function start(
    mode: 'fallback' | 'near',
    client: 'ioredis' | 'node-redis' = 'ioredis',
    operationTimeoutMs = 2000,
  ): Promise<[Child, Child]> {
    const env = {
      CACHE_REDIS_URL: redis.url,
      CACHE_PREFIX: `${redis.prefix}${mode}${round++}`,
      CACHE_MODE: mode,
      CACHE_CLIENT: client,
      CACHE_OPERATION_TIMEOUT_MS: String(operationTimeoutMs),
    };
    children = [spawnWorker(env), spawnWorker(env)];
    await Promise.all(children.map((c) => c.next('ready')));
    return children as [Child, Child];
  }

  it.each(['ioredis', 'node-redis'] as const)(
    'single-flight (%s): 2 x 500 concurrent wrap misses call the factory exactly once in total',
    async (client) => {
      const [a, b] = await start('fallback', client);
      for (const [trial, key] of ['one', 'two', 'three'].entries()) {
        a.send({ cmd: 'stampede', key, n: 500, factoryMs: 50 });
        b.send({ cmd: 'stampede', key, n: 500, factoryMs: 50 });
        const [ra, rb] = await Promise.all([
          a.next<{ calls: number; ok: number; distinct: number }>('stampede'),
          b.next<{ calls: number; ok: number; distinct: number }>('stampede'),
        ]);
        expect(ra.calls + rb.calls, `factory calls in trial ${trial}`).toBe(1);
        expect(ra.ok + rb.ok).toBe(1000);
        // Both processes got the one value computed by the one process that ran the factory.
        expect(ra.distinct).toBe(1);
        expect(rb.distinct).toBe(1);
      }
    },
  );

  it('near-cache: a write in one process evicts the other process copy within 100 ms (beyond a bare pub/sub message)', async () => {
    const [writer, reader] = await start('near');
    // Control, in the same run: the slowest of 5 bare pub/sub messages from the writer's process to the reader's. On an
    // idle machine it is a millisecond or two; with both cores busy, scheduling delays both paths alike.
    let control = 0;
    for (let i = 0; i < 5; i++) {
      const channel = `${redis.prefix}control:${i}`;
      reader.send({ cmd: 'control-listen', channel });
      await reader.next('control-listening');
      writer.send({ cmd: 'control-publish', channel });
      const [published, received] = await Promise.all([
        writer.next<{ at: number }>('control-published'),
        reader.next<{ at: number }>('control-received'),
      ]);
      control = Math.max(control, received.at - published.at);
    }
    writer.send({ cmd: 'set', key: 'shared', value: 'v1' });
    await writer.next('set');
    reader.send({ cmd: 'watch', key: 'shared' });
    const watching = await reader.next<{ before: unknown; memory: unknown }>('watching');
    expect(watching).toEqual({ type: 'watching', before: 'v1', memory: 'v1' });
    writer.send({ cmd: 'set', key: 'shared', value: 'v2' });
    const [set, invalidated] = await Promise.all([
      writer.next<{ at: number }>('set'),
      reader.next<{ at: number; after: unknown }>('invalidated'),
    ]);
    // Measured with the shared wall clock of both processes.
    expect(
      invalidated.at - set.at,
      `eviction after ${invalidated.at - set.at} ms; bare pub/sub took up to ${control} ms`,
    ).toBeLessThanOrEqual(100 + control);
    expect(invalidated.after).toBe('v2');
  });
});
