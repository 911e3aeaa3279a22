/**
 * The client-side budget for GHL requests, per location. An interface so that a Redis-shared implementation (every
 * process of the app counting against the same budget) can replace the in-process one without touching the client.
 */
export interface GhlRateLimiter {
  /**
   * Resolves when one request for `key` may be sent (and counts it); rejects if `signal` aborts first, or at once
   * with `RateLimitWaitTooLong` when the wait would exceed `maxWaitMs` (a daily-limit pause lasts hours).
   */
  acquire(key: string, options?: { signal?: AbortSignal; maxWaitMs?: number }): Promise<void>;
  /** What GHL's `X-RateLimit-*` headers said: no request for `key` before `untilMs` (epoch ms). */
  pauseUntil(key: string, untilMs: number): void;
}

/** The budget of a key is paused for longer than the caller is willing to wait. */
export class RateLimitWaitTooLong extends Error {
  override readonly name = 'RateLimitWaitTooLong';
  readonly code = 'GHL_RATE_LIMIT_WAIT_TOO_LONG';
  constructor(readonly waitMs: number) {
    super(`the request budget is paused for ${Math.ceil(waitMs)} ms`);
  }
}

/** Options of `createMemoryRateLimiter`. */
export interface MemoryRateLimiterOptions {
  /** Requests per window per key. @default 100 (GHL's burst limit) */
  max?: number;
  /** Window length. @default 10000 */
  intervalMs?: number;
  /**
   * Added to the window here: a request admitted now reaches GHL a little later, and GHL counts arrivals. With this
   * guard GHL sees at most `max` in any `intervalMs` as long as delivery delays differ by less than it. @default 250
   */
  guardMs?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (a caller's timeout must not wait the budget out). */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** A sliding-window log per key, in this process: at most `max` acquisitions in any `intervalMs`. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): GhlRateLimiter {
  const max = options.max ?? 100;
  const guardMs = options.guardMs ?? 250;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
  if (!Number.isFinite(options.intervalMs ?? 10_000) || (options.intervalMs ?? 10_000) <= 0)
    throw new RangeError('intervalMs must be positive');
  if (!Number.isFinite(guardMs) || guardMs < 0) throw new RangeError('guardMs must be >= 0');
  const intervalMs = (options.intervalMs ?? 10_000) + guardMs;
  const logs = new Map<string, number[]>();
  const paused = new Map<string, number>();

  return {
    async acquire(key, options = {}) {
      const { signal, maxWaitMs = Infinity } = options;
      for (;;) {
        const t = now();
        const until = paused.get(key);
        if (until !== undefined && until > t) {
          if (until - t > maxWaitMs) throw new RateLimitWaitTooLong(until - t);
          await sleep(until - t, signal);
          continue;
        }
        if (until !== undefined) paused.delete(key);
        let log = logs.get(key);
        if (!log) logs.set(key, (log = []));
        while (log.length > 0 && log[0]! <= t - intervalMs) log.shift();
        if (log.length < max) {
          log.push(t);
          return;
        }
        await sleep(log[0]! + intervalMs - t + 1, signal);
      }
    },
    pauseUntil(key, untilMs) {
      if (untilMs > (paused.get(key) ?? 0)) paused.set(key, untilMs);
    },
  };
}
