// GET /jobs/:id/events over real HTTP: Server-Sent Events with monotonic progress and a final event, not compressed,
// and no stream left behind when the client disconnects. The queue is the in-process one with a processor that
// reports progress slowly around the real analysis (so there are several events to see).
import { fileURLToPath } from 'node:url';
import { hasSharedPostgres, sharedPostgres, waitFor, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrations.js';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../../fakes/ghl/server.js';
import { createMemoryAnalysisQueue } from '../../../src/jobs/index.js';
import { analysisProcessor } from '../../../src/features/workflows/analysis-job.js';
import { sessionFor, startApp, type GhlApp, seedTenant } from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const FIXTURES = fileURLToPath(new URL('../../../fakes/ghl/workflows', import.meta.url));
const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';
const OTHER = 'otherLocationSse0001';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SseEvent {
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserted field by field
  data: any;
}

/** Reads events from a fetch body until `stop` says so or the stream ends. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  stop: (events: SseEvent[]) => boolean,
): Promise<SseEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
    if (stop(events)) {
      reader.releaseLock();
      break;
    }
  }
  return events;
}

describe.skipIf(!pgUp)('GET /jobs/:id/events (Server-Sent Events)', () => {
  let pg: SharedPostgres;
  let fake: FakeGhl;
  let app: GhlApp;
  let cookie: string;
  let otherCookie: string;
  let workflows: string[];

  beforeAll(async () => {
    pg = await sharedPostgres('api_jobs_events');
    await migrate({ url: pg.url });
    fake = await startFakeGhl({ locations: fakeLocationsFromFolder(FIXTURES) });
    app = await startApp({
      url: pg.url,
      ghl: {
        fake,
        analysisQueue: (service) => {
          const analyse = analysisProcessor(service);
          return createMemoryAnalysisQueue({
            processor: async (data, ctx) => {
              for (const p of [5, 20, 40, 60, 80]) {
                await ctx.progress(p);
                await sleep(250);
              }
              return analyse(data, ctx);
            },
          });
        },
      },
    });
    const a = await seedTenant(app.db, LOC);
    await app.module.tokens.save(app.db, { ...fake.grant(LOC), locationId: LOC });
    cookie = await sessionFor(app, a.accountId, LOC);
    const b = await seedTenant(app.db, OTHER);
    otherCookie = await sessionFor(app, b.accountId, OTHER);
    const res = await fetch(`${app.base}/api/workflows`, { headers: { cookie } });
    workflows = ((await res.json()) as { data: { id: string }[] }).data.map((w) => w.id);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
    await pg?.cleanup();
  });

  const queue = async (workflowId: string) => {
    const res = await fetch(`${app.base}/api/analyze`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ workflowId, async: true }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { data: { jobId: string } }).data.jobId;
  };

  it('streams monotonic progress and one final event with the result, uncompressed, then closes', async () => {
    const jobId = await queue(workflows[0]!);
    const res = await fetch(`${app.base}/api/jobs/${jobId}/events`, {
      headers: { cookie, accept: 'text/event-stream', 'accept-encoding': 'gzip, br' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(res.headers.get('cache-control')).toContain('no-transform');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const events = await readEvents(res.body!, () => false);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.progress as number);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBe(progress.length);
    const last = events.at(-1)!;
    expect(last.event).toBe('end');
    expect(last.data).toMatchObject({
      id: jobId,
      status: 'completed',
      progress: 100,
      result: { workflowId: workflows[0], score: expect.any(Number) },
    });
    expect(events.filter((e) => e.event === 'end')).toHaveLength(1);
    expect(app.module.jobEvents.active()).toBe(0);
  });

  it('a client that disconnects mid-stream leaves no stream behind (its timer is released), and the job still completes', async () => {
    const jobId = await queue(workflows[1]!);
    const controller = new AbortController();
    const res = await fetch(`${app.base}/api/jobs/${jobId}/events`, { headers: { cookie }, signal: controller.signal });
    const seen = await readEvents(res.body!, (events) => events.length >= 2);
    expect(seen.every((e) => e.event === 'progress')).toBe(true);
    expect(app.module.jobEvents.active()).toBe(1);
    controller.abort();
    await waitFor('the stream to be released', async () => app.module.jobEvents.active() === 0, 10_000);
    await waitFor(
      'the job to complete',
      async () => (await app.module.queue.get(jobId))?.status === 'completed',
      20_000,
    );
    // Still released after the job ended (nothing was left to write to the dead socket).
    expect(app.module.jobEvents.active()).toBe(0);
  });

  it("another location's job is 404 without opening a stream; a finished job gets its final event at once", async () => {
    const jobId = await queue(workflows[0]!);
    const foreign = await fetch(`${app.base}/api/jobs/${jobId}/events`, { headers: { cookie: otherCookie } });
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    expect(app.module.jobEvents.active()).toBe(0);
    const res = await fetch(`${app.base}/api/jobs/${jobId}/events`, { headers: { cookie } });
    const events = await readEvents(res.body!, () => false);
    expect(events.map((e) => e.event)).toEqual(['progress', 'end']);
    expect(events[1]!.data.status).toBe('completed');
  });
});
