/**
 * Credentials known not to exist (unknown, revoked or expired), remembered for a short while so that a flood of the
 * same dead credential costs no database round trip. A credential is random and never comes back to life once it is
 * unknown, revoked or expired, so remembering a miss is safe. Bounded: the oldest entries go first.
 */
export class NegativeCache {
  private readonly misses = new Map<string, number>();

  constructor(
    /** How long a miss is remembered. */
    private readonly ttlMs = 60_000,
    /** Most misses remembered at once. */
    private readonly maxEntries = 10_000,
  ) {}

  has(key: string, now = Date.now()): boolean {
    const until = this.misses.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.misses.delete(key);
    return false;
  }

  add(key: string, now = Date.now()): void {
    this.misses.delete(key);
    this.misses.set(key, now + this.ttlMs);
    while (this.misses.size > this.maxEntries) this.misses.delete(this.misses.keys().next().value!);
  }
}

/**
 * One lookup at a time per key: concurrent callers with the same credential share the first caller's query, so a
 * burst of one credential costs one round trip (and the negative cache then answers the rest).
 */
export function singleFlight<T>(): (key: string, run: () => Promise<T>) => Promise<T> {
  const inflight = new Map<string, Promise<T>>();
  return (key, run) => {
    const pending = inflight.get(key);
    if (pending) return pending;
    const started = run().finally(() => inflight.delete(key));
    inflight.set(key, started);
    return started;
  };
}
