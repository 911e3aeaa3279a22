import { describe, expect, it } from 'vitest';
import { DeadlineQueue, backoff } from './deadline.js';

describe('DeadlineQueue', () => {
  it('times out what is not done in time, and only that, in order', async () => {
    // A 1 s deadline and half of it between the two groups: the margins are far beyond how late a timer fires with
    // both cores busy, which the previous 10-20 ms margins were not.
    const queue = new DeadlineQueue(1_000);
    const timedOut: string[] = [];
    const until = async (what: () => boolean) => {
      for (let waited = 0; waited < 5_000 && !what(); waited += 10) await new Promise((r) => setTimeout(r, 10));
    };
    const a = queue.track((e) => timedOut.push(`a:${e.code}`), 'A');
    const b = queue.track(() => timedOut.push('b'), 'B');
    b.done = true; // answered in time
    await new Promise((r) => setTimeout(r, 500));
    queue.track(() => timedOut.push('c'), 'C');
    await until(() => timedOut.length > 0);
    expect(timedOut).toEqual(['a:CACHE_REDIS_TIMEOUT']);
    expect(a.done).toBe(true);
    await until(() => timedOut.length > 1);
    expect(timedOut).toEqual(['a:CACHE_REDIS_TIMEOUT', 'c']);
  });

  it('flush times out everything still pending', () => {
    const queue = new DeadlineQueue(10_000);
    let n = 0;
    for (let i = 0; i < 5; i++) queue.track(() => n++, 'X');
    queue.flush();
    expect(n).toBe(5);
  });
});

describe('backoff', () => {
  it('grows exponentially, is capped, and keeps half of it random', () => {
    expect(backoff(0, 50, 500, () => 0)).toBe(25);
    expect(backoff(0, 50, 500, () => 1)).toBe(50);
    expect(backoff(3, 50, 500, () => 0.5)).toBe(300);
    expect(backoff(40, 50, 500, () => 1)).toBe(500);
    expect(backoff(40, 50, 500, () => 0)).toBe(250);
  });
});
