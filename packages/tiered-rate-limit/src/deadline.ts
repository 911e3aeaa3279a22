import { performance } from 'node:perf_hooks';

/** One call waiting for its reply. Entries form a list in deadline order (every call has the same timeout). */
export interface Entry {
  at: number;
  settled: boolean;
  expire: (() => void) | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * Deadlines for calls that all share one timeout: a linked list of pending calls (oldest first) and at
 * most one armed timer serve every in-flight call. A settled call unlinks itself at once, so nothing
 * is retained until its deadline (no timer per call, no growing queue).
 */
export class DeadlineQueue {
  private head: Entry | undefined;
  private tail: Entry | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Registers a call; `expire` runs once if the call is still unsettled `timeoutMs` from now. */
  add(expire: () => void): Entry {
    const entry: Entry = {
      at: performance.now() + this.timeoutMs,
      settled: false,
      expire,
      prev: this.tail,
      next: undefined,
    };
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    if (this.timer === undefined) this.arm(this.timeoutMs);
    return entry;
  }

  /** Marks a call settled (reply or failure); false when it was already settled (e.g. expired). */
  settle(entry: Entry): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    entry.expire = undefined;
    const { prev, next } = entry;
    if (prev) prev.next = next;
    else if (this.head === entry) this.head = next;
    if (next) next.prev = prev;
    else if (this.tail === entry) this.tail = prev;
    entry.prev = entry.next = undefined;
    return true;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(
      () => {
        // Let the poll phase deliver replies that arrived while the loop was busy before expiring
        // anything: timers run before I/O callbacks, setImmediate runs after them.
        setImmediate(() => this.fire());
      },
      Math.max(1, Math.ceil(ms)),
    );
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head && this.head.at <= now) {
      const entry = this.head;
      const expire = entry.expire;
      if (this.settle(entry)) expire!();
    }
    if (this.head) this.arm(this.head.at - now);
  }

  /** Cancels the timer (pending entries are left to their promises' owners). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
