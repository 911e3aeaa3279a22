/**
 * Single-flight: one computation of a key at a time. In one process, concurrent callers share one promise
 * (`flights`). Across processes `wrap` takes a Redis lock (SET NX with a lease of `lockLeaseMs`); the holder renews
 * the lease while its factory runs and, once done, deletes the lock and wakes the waiters over pub/sub
 * (invalidation.ts); a waiter also polls, for a lost wake-up, and gives up after one lease without a holder.
 */
import { read } from './redis-mode.js';
import type { CacheState, CallState, Flights, Read, ScopeRef } from './state.js';

const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

export class SingleFlight implements Flights {
  /** The computation in progress per Redis key, in this process. */
  readonly flights = new Map<string, Promise<unknown>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private lockSeq = 0;

  constructor(private readonly core: CacheState) {}

  /** Registers the one computation of `full` in this process until it settles (a later one may replace it). */
  track<T>(full: string, flight: Promise<T>): Promise<T> {
    this.flights.set(full, flight);
    const done = () => {
      if (this.flights.get(full) === flight) this.flights.delete(full);
    };
    flight.then(done, done);
    return flight;
  }

  /** A lock token unique to this process and call. */
  token(): string {
    return `${this.core.id}:${++this.lockSeq}`;
  }

  /** Takes the cross-process lock of `full` for `lockLeaseMs`: true if taken, false if held elsewhere, undefined if Redis failed. */
  tryLock(full: string, token: string): Promise<boolean | undefined> {
    const core = this.core;
    return core
      .redis!.exec('SET NX', (c) => c.set(core.ns.lockKey(full), token, 'PX', core.o.lockLeaseMs, 'NX'))
      .then(
        (reply) => reply === 'OK',
        () => undefined,
      );
  }

  /**
   * Renews the lease of a lock this process holds every third of `lockLeaseMs` until the returned function is called,
   * so a factory that runs longer than the lease keeps it; a holder that dies stops renewing and the lease runs out.
   */
  keepLock(full: string, token: string): () => void {
    const core = this.core;
    const key = core.ns.lockKey(full);
    const lease = core.o.lockLeaseMs;
    const timer = setInterval(
      () => {
        void core
          .redis!.exec('EVAL', (c) => c.eval(RENEW, 1, key, token, lease) as Promise<unknown>)
          .catch(() => {
            // a renewal that fails leaves the lease to run out, as for a holder that died
          });
      },
      Math.max(1, Math.floor(lease / 3)),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  unlock(full: string, token: string): void {
    const core = this.core;
    const redis = core.redis!;
    // Delete the lock only if we still hold it (the lease may have passed to another process).
    const released = redis
      .exec('EVAL', (c) => c.eval(RELEASE, 1, core.ns.lockKey(full), token) as Promise<unknown>)
      .catch(() => {
        // the lease expires by itself
      });
    // On one connection the wake-up goes out right behind the unlock (Redis runs them in order, so a woken
    // waiter finds the lock gone and the value written) instead of one round trip later. A Cluster may
    // route the two to different nodes: there it waits for the unlock.
    if (redis.cluster) void released.finally(() => core.invalidation.publish('w', full));
    else core.invalidation.publish('w', full);
  }

  /**
   * Takes the Redis lock of a key, or waits for its holder to publish the value. Waiters are woken
   * over pub/sub; a short poll covers a lost message or a subscriber that is not connected. The holder
   * renews its lease while its factory runs, so a waiter waits as long as the lock is held (a holder that
   * dies frees it within `lockLeaseMs`), and at most `maxWaitMs` (the caller's hard timeout) when given.
   */
  async lockOrWait(
    s: ScopeRef,
    full: string,
    call: CallState,
    maxWaitMs: number | undefined,
  ): Promise<{ token?: string; value?: Read; stale?: Read }> {
    const core = this.core;
    const redis = core.redis!;
    const token = this.token();
    const startedAt = Date.now();
    const capAt = maxWaitMs === undefined ? Infinity : startedAt + maxWaitMs;
    let giveUpAt = Math.min(capAt, startedAt + core.o.lockLeaseMs);
    let stale: Read | undefined;
    while (!core.closed && redis.usable && !call.redisFailed && Date.now() < giveUpAt) {
      // The poll only covers a lost wake-up (or a subscriber that is not subscribed yet).
      const pollMs = redis.subscriberReady ? 100 : 25;
      const wait = this.waitFor(full, Math.min(pollMs, Math.max(1, giveUpAt - Date.now())));
      const locking = this.tryLock(full, token);
      // On one connection, a GET sent right behind SET NX sees the state after it: this is the
      // double-check (did the previous holder store the value?) without an extra round trip. A
      // cluster may route the two to different nodes, so there the check waits for the lock.
      const reading = redis.cluster ? undefined : read(s, full, true, false, call, true);
      const acquired = await locking;
      if (acquired === undefined) {
        wait.cancel();
        call.redisFailed = true;
        return { stale };
      }
      const current = await (reading ?? (acquired ? read(s, full, true, false, call) : undefined));
      if (current?.fresh) {
        wait.cancel();
        if (acquired) this.unlock(full, token);
        return { value: current };
      }
      if (current) stale = current;
      if (acquired) {
        wait.cancel();
        return { token, stale };
      }
      // Held: by a live holder that renews it, or by a dead one whose lease runs out within lockLeaseMs.
      giveUpAt = Math.min(capAt, Date.now() + core.o.lockLeaseMs);
      await wait.promise;
      const r = await read(s, full, true, true, call);
      if (r?.fresh) return { value: r };
      if (r) stale = r;
    }
    return { stale };
  }

  /** Registers a waiter for a key's lock release; resolves on the pub/sub wake or after `ms`. */
  waitFor(full: string, ms: number): { promise: Promise<void>; cancel: () => void } {
    let set = this.waiters.get(full);
    if (!set) this.waiters.set(full, (set = new Set()));
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    // Not unref'd: a wrap() call awaits this wake-up (or the lease), even if Redis has gone away meanwhile.
    const timer = setTimeout(() => wake(), ms);
    const wake = () => {
      clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(full) === set) this.waiters.delete(full);
      done();
    };
    set.add(wake);
    return { promise, cancel: wake };
  }

  /** The lock of `full` was released: wakes this process's waiters. */
  wake(full: string): void {
    const set = this.waiters.get(full);
    if (set) for (const wake of [...set]) wake();
  }

  /** The cache closes: nobody waits any longer. */
  wakeAll(): void {
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }
}
