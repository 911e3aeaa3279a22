// Server-Sent Events driven by the queue's own change events (AnalysisQueue.watch), both implementations: with the
// safety-net poll set to a minute, a stream still shows every progress step and its end as they happen, so the
// events come from the queue (BullMQ: its Redis event stream), not from polling. A client that leaves releases its
// stream and, with the last one, the queue subscription.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hasSharedRedis, sharedRedis, waitFor, type SharedRedis } from '@org/test-services';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createBullAnalysisQueue,
  createJobEventStreams,
  createMemoryAnalysisQueue,
  type AnalysisQueue,
  type AnalysisQueueOptions,
} from '../../src/jobs/index.js';

const redisUp = await hasSharedRedis();
const POLL_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redisHandles: SharedRedis[] = [];
const implementations: [string, (o: AnalysisQueueOptions) => Promise<AnalysisQueue>, boolean][] = [
  ['in-process queue', async (o) => createMemoryAnalysisQueue(o), true],
  [
    'BullMQ on the shared Redis',
    async (o) => {
      const redis = await sharedRedis('jobs_events_push');
      redisHandles.push(redis);
      return createBullAnalysisQueue({ ...o, redisUrl: redis.url, prefix: redis.prefix.slice(0, -1) });
    },
    redisUp,
  ],
];

describe.each(implementations)('job event streams pushed by the queue: %s', (_name, factory, available) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    await Promise.all(redisHandles.splice(0).map((r) => r.cleanup()));
  });

  const setup = async (processor: AnalysisQueueOptions['processor'], reads = { count: 0 }) => {
    const queue = await factory({ processor });
    // BullMQ opens its event connection with the first listener: let it connect before the test's job starts.
    queue.watch(() => undefined)();
    await sleep(500);
    let subscriptions = 0;
    const streams = createJobEventStreams({
      read: (id) => {
        reads.count += 1;
        return queue.get(id);
      },
      intervalMs: POLL_MS,
      watch: (listener) => {
        subscriptions += 1;
        const stop = queue.watch(listener);
        return () => {
          subscriptions -= 1;
          stop();
        };
      },
    });
    const app = express();
    app.get('/events/:id', (req, res) => streams.stream(res, req.params.id, (job) => job));
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    cleanup.push(async () => {
      streams.closeAll();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await queue.close();
    });
    return {
      queue,
      streams,
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      subscriptions: () => subscriptions,
    };
  };

  const parse = (text: string) =>
    text
      .split('\n\n')
      .filter((b) => b.includes('data: '))
      .map((b) => ({
        event: /^event: (.*)$/m.exec(b)![1]!,
        data: JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as { status: string; progress: number },
      }));

  it.skipIf(!available)('every progress step and the end arrive as they happen, with a one-minute poll', async () => {
    const { queue, base, subscriptions } = await setup(async (_d, ctx) => {
      // Give the stream time to subscribe before the first step.
      await sleep(400);
      for (const p of [20, 40, 60, 80]) {
        await ctx.progress(p);
        await sleep(150);
      }
      return { done: true };
    });
    const { jobId } = await queue.enqueue({ locationId: 'locP', workflowId: 'wf', version: 1 });
    const started = Date.now();
    const text = await (await fetch(`${base}/events/${jobId}`)).text();
    const events = parse(text);
    // A poll would have taken a minute to see the end.
    expect(Date.now() - started).toBeLessThan(POLL_MS / 4);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.progress);
    expect(progress.filter((p) => [20, 40, 60, 80].includes(p)).length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'completed', progress: 100 } });
    expect(subscriptions()).toBe(0);
  });

  it.skipIf(!available)(
    'a burst of changes is read at most every 100 ms, and the last state still arrives',
    async () => {
      const reads = { count: 0 };
      const { queue, base } = await setup(async (_d, ctx) => {
        await sleep(400);
        for (let p = 1; p <= 60; p++) {
          await ctx.progress(p);
          await sleep(5);
        }
        return {};
      }, reads);
      const { jobId } = await queue.enqueue({ locationId: 'locP', workflowId: 'wf-burst', version: 1 });
      const started = Date.now();
      const events = parse(await (await fetch(`${base}/events/${jobId}`)).text());
      const elapsed = Date.now() - started;
      // 60 progress changes and the end: without the spacing every change would be a read.
      expect(reads.count).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 3);
      expect(reads.count).toBeLessThan(40);
      expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'completed', progress: 100 } });
    },
  );

  it.skipIf(!available)('a client that leaves releases its stream and the queue subscription', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { queue, streams, base, subscriptions } = await setup(async (_d, ctx) => {
      await ctx.progress(10);
      await gate;
      return {};
    });
    const { jobId } = await queue.enqueue({ locationId: 'locP', workflowId: 'wf-leave', version: 1 });
    const controller = new AbortController();
    const res = await fetch(`${base}/events/${jobId}`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    await waitFor('the stream to subscribe', async () => subscriptions() === 1 && streams.active() === 1, 5_000, 10);
    controller.abort();
    await waitFor(
      'the stream and its subscription to be released',
      async () => streams.active() === 0 && subscriptions() === 0,
      5_000,
      10,
    );
    release();
  });
});
