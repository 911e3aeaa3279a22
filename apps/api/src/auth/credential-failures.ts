import { ipKey } from '@org/tiered-rate-limit';

/**
 * Failed credential lookups per client address, in fixed one-minute windows (memory, per instance). Once an address
 * has spent its budget, its credentials are not looked up at all until the window ends: the request goes on as
 * anonymous and is limited by address. A valid credential never fails, so legitimate callers never spend it.
 */
export class CredentialFailures {
  private readonly counts = new Map<string, number>();
  private windowStart = 0;

  constructor(
    /** Failed lookups an address may cause per window. */
    private readonly budget = 30,
    private readonly windowMs = 60_000,
    /** Addresses tracked at once; beyond it the window restarts early (fails open to the other defences). */
    private readonly maxAddresses = 100_000,
  ) {}

  private roll(now: number) {
    if (now - this.windowStart >= this.windowMs || this.counts.size >= this.maxAddresses) {
      this.counts.clear();
      this.windowStart = now;
    }
  }

  /** Whether the address may still have a credential looked up in this window. */
  allows(ip: string, now = Date.now()): boolean {
    this.roll(now);
    return (this.counts.get(ipKey(ip)) ?? 0) < this.budget;
  }

  /** Records one failed lookup (a credential that named nothing valid). */
  fail(ip: string, now = Date.now()): void {
    this.roll(now);
    const key = ipKey(ip);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}
