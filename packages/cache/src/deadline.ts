import { performance } from 'node:perf_hooks';
import { CacheRedisError } from './errors.js';

/**
 * One tracked deadline. Marking it `done` drops its timeout callback at once: the entry stays queued
 * until the timer passes it, and must not keep the caller's closures (and through them the replies)
 * alive that long, or every reply would outlive the young generation and be promoted.
 */
class Pending {
  private onTimeout: ((error: CacheRedisError) => void) | undefined;

  constructor(
    readonly at: number,
    onTimeout: (error: CacheRedisError) => void,
    readonly what: string,
  ) {
    this.onTimeout = onTimeout;
  }

  get done(): boolean {
    return this.onTimeout === undefined;
  }

  set done(value: boolean) {
    if (value) this.onTimeout = undefined;
  }

  /** Runs the timeout callback once, unless done. */
  expire(error: () => CacheRedisError): void {
    const onTimeout = this.onTimeout;
    if (onTimeout === undefined) return;
    this.onTimeout = undefined;
    onTimeout(error());
  }
}

/**
 * Puts a deadline on promises that all use the same timeout. Since their deadlines arrive in the
 * order they were started, one FIFO and one timer suffice: far cheaper on the hot path than a
 * `setTimeout` per Redis command. A promise that settles after its deadline is swallowed, so a late
 * Redis reply or error can never become an unhandled rejection.
 */
export class DeadlineQueue {
  private queue: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /**
   * Registers a deadline; `onTimeout` runs once if the returned handle is not marked `done` in
   * time. The caller settles its own promise (one promise per operation instead of two).
   */
  track(onTimeout: (error: CacheRedisError) => void, what: string): { done: boolean } {
    const pending = new Pending(performance.now() + this.ms, onTimeout, what);
    this.queue.push(pending);
    if (this.timer === undefined) this.arm(pending.at);
    return pending;
  }

  /** Rejects everything still pending (used by close). */
  flush(): void {
    for (let i = this.head; i < this.queue.length; i++) this.expire(this.queue[i]!);
    this.queue = [];
    this.head = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expire(pending: Pending): void {
    pending.expire(
      () => new CacheRedisError(`Redis ${pending.what} did not answer within ${this.ms} ms`, 'CACHE_REDIS_TIMEOUT'),
    );
  }

  private arm(at: number): void {
    // Timers run before I/O in each event-loop turn: after a stall of this process (GC, a busy
    // CPU) the timer would fire before the replies that already arrived are read. Checking from
    // setImmediate (after the poll phase) blames Redis only for replies that really are late.
    // Not unref'd: a caller is awaiting the operation, and the process must not exit (an unsettled await) before its
    // deadline answers it. The timer only exists while operations are pending.
    this.timer = setTimeout(() => setImmediate(() => this.tick()), Math.max(0, at - performance.now()) + 1);
  }

  private tick(): void {
    this.timer = undefined;
    const now = performance.now();
    const q = this.queue;
    while (this.head < q.length && (q[this.head]!.done || q[this.head]!.at <= now)) this.expire(q[this.head++]!);
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
      return;
    }
    if (this.head > 1024) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    this.arm(this.queue[this.head]!.at);
  }
}

/** A one-off deadline for operations with their own timeout (probes, SCAN during clear). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CacheRedisError(`Redis ${what} did not answer within ${ms} ms`, 'CACHE_REDIS_TIMEOUT')),
      ms,
    );
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Capped exponential backoff with "equal jitter": half fixed, half random, never above `capMs`. */
export function backoff(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}
