import { performance } from 'node:perf_hooks';

interface Entry {
  at: number;
  settled: boolean;
  expire: () => void;
}

/**
 * Deadlines for calls that all share one timeout: entries expire in insertion order, so one queue and
 * at most one armed timer serve every in-flight call (no timer per call).
 */
export class DeadlineQueue {
  private entries: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Registers a call; `expire` runs once if the call is still unsettled `timeoutMs` from now. */
  add(expire: () => void): Entry {
    const entry: Entry = { at: performance.now() + this.timeoutMs, settled: false, expire };
    this.entries.push(entry);
    if (this.timer === undefined) this.arm(this.timeoutMs);
    return entry;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      // Let the poll phase deliver replies that arrived while the loop was busy before expiring
      // anything: timers run before I/O callbacks, setImmediate runs after them.
      setImmediate(() => this.fire());
    }, Math.max(1, Math.ceil(ms)));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head]!;
      if (!entry.settled && entry.at > now) break;
      this.head++;
      if (!entry.settled) {
        entry.settled = true;
        entry.expire();
      }
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.entries.length) this.arm(this.entries[this.head]!.at - now);
    else {
      this.entries = [];
      this.head = 0;
    }
  }

  /** Cancels the timer (pending entries are left to their promises' owners). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
