/**
 * Bounded in-process counter store: the same decision arithmetic as the Lua script (lua.ts), used
 * alone when no Redis is configured and as the fallback while Redis is unavailable.
 *
 * Memory layout: a Map from key to a slot number, and the slot's state in typed arrays (no object
 * per key, no timer per key). Slots form an LRU list so that the hard key cap evicts in O(1). An
 * incremental sweep (driven by the limiter's single maintenance timer) frees expired slots and
 * shrinks the arrays, so memory returns to its baseline after traffic stops.
 */

const INITIAL_CAPACITY = 1024;
const NONE = -1;

export interface MemoryStoreOptions {
  /** Hard cap on live keys; the least recently used key is evicted beyond it. */
  maxKeys: number;
}

export class MemoryStore {
  readonly maxKeys: number;
  private map = new Map<string, number>();
  private capacity = 0;
  private keys: (string | undefined)[] = [];
  // a/b/c: algorithm state (fixed: start,count | sliding: index,current,previous | gcra: tat). b < 0 marks a block until a.
  private a = new Float64Array(0);
  private b = new Float64Array(0);
  private c = new Float64Array(0);
  private exp = new Float64Array(0);
  private newer = new Int32Array(0);
  private older = new Int32Array(0);
  private free = new Int32Array(0);
  private freeTop = 0;
  private head = NONE; // most recently used
  private tail = NONE; // least recently used
  private cursor = 0;
  private scratch = makeScratch(4);
  /** Keys evicted by the cap since creation. */
  evictions = 0;

  constructor(options: MemoryStoreOptions) {
    this.maxKeys = options.maxKeys;
    this.resize(Math.min(INITIAL_CAPACITY, options.maxKeys));
  }

  /** Live (not yet swept) keys. */
  get size(): number {
    return this.map.size;
  }

  /**
   * Decides one request over `keys.length` policies. `args` holds 5 numbers per policy: algorithm
   * (1 fixed, 2 sliding, 3 gcra), limit, windowMs, cost, blockMs. Returns the script's reply format.
   * `commit` false answers the same without writing anything (how `peek` reads a state).
   */
  decide(keys: readonly string[], args: readonly number[], now: number, commit = true): number[] {
    const n = keys.length;
    if (n > this.scratch.slot.length) this.scratch = makeScratch(n);
    // Reused per call: the hot path allocates only the reply.
    const { slot: slots, a: na, b: nb, c: nc, ttl, held, write: writes } = this.scratch;
    const out = new Array<number>(2 + 4 * n);
    out[0] = 1;
    out[1] = now;
    let rejected = false;
    for (let i = 0; i < n; i++) {
      const o = i * 5;
      const algo = args[o]!;
      const limit = args[o + 1]!;
      const win = args[o + 2]!;
      const cost = args[o + 3]!;
      let slot = this.map.get(keys[i]!);
      if (slot !== undefined && this.exp[slot]! <= now) slot = undefined;
      slots[i] = slot ?? NONE;
      held[i] = 0;
      ttl[i] = 0;
      let rem = 0;
      let reset = 0;
      let retry = 0;
      let lim = 0;
      let write = false;
      let sa = 0;
      let sb = 0;
      let sc = 0;
      let live = slot !== undefined;
      if (live && this.b[slot!]! < 0) {
        const until = this.a[slot!]!;
        if (until > now) {
          reset = until - now;
          retry = reset;
          lim = 1;
          held[i] = 1;
        }
        live = false;
      }
      if (lim === 0) {
        if (algo === 1) {
          let start = now;
          let count = 0;
          if (live) {
            start = this.a[slot!]!;
            count = this.b[slot!]!;
            if (now >= start + win) {
              start = now;
              count = 0;
            }
          }
          reset = start + win - now;
          if (count + cost > limit) {
            lim = 1;
            rem = limit - count;
            retry = reset;
          } else {
            count += cost;
            rem = limit - count;
            write = true;
            sa = start;
            sb = count;
            ttl[i] = reset;
          }
        } else if (algo === 2) {
          const idx = Math.floor(now / win);
          let curr = 0;
          let prev = 0;
          if (live) {
            const sidx = this.a[slot!]!;
            if (sidx === idx) {
              curr = this.b[slot!]!;
              prev = this.c[slot!]!;
            } else if (sidx === idx - 1) {
              prev = this.b[slot!]!;
            }
          }
          const elapsed = now - idx * win;
          const est = (prev * (win - elapsed)) / win + curr;
          reset = win - elapsed;
          if (est + cost > limit) {
            lim = 1;
            rem = Math.floor(limit - est);
            const need = limit - cost;
            if (need < 0) retry = reset + win;
            else if (curr <= need) retry = Math.ceil(win * (1 - (need - curr) / prev) - elapsed);
            else retry = Math.ceil(reset + win * (1 - need / curr));
            if (retry < 1) retry = 1;
          } else {
            curr += cost;
            rem = Math.floor(limit - est - cost);
            write = true;
            sa = idx;
            sb = curr;
            sc = prev;
            ttl[i] = reset + win;
          }
        } else {
          const step = win / limit;
          let tat = now;
          if (live) tat = Math.max(this.a[slot!]!, now);
          const newTat = tat + cost * step;
          if (newTat - now > win) {
            lim = 1;
            rem = Math.floor((win - (tat - now)) / step + 1e-9);
            retry = Math.ceil(newTat - now - win);
            reset = Math.ceil(tat - now);
          } else {
            rem = Math.floor((win - (newTat - now)) / step + 1e-9);
            reset = Math.ceil(newTat - now);
            write = true;
            sa = Math.ceil(newTat);
            ttl[i] = reset;
          }
        }
        if (rem < 0) rem = 0;
      }
      if (lim === 1) rejected = true;
      writes[i] = write ? 1 : 0;
      na[i] = sa;
      nb[i] = sb;
      nc[i] = sc;
      const r = 2 + i * 4;
      out[r] = rem;
      out[r + 1] = reset;
      out[r + 2] = retry;
      out[r + 3] = lim;
    }
    if (rejected) {
      out[0] = 0;
      for (let i = 0; i < n; i++) {
        const blk = args[i * 5 + 4]!;
        const o = 2 + i * 4;
        if (out[o + 3] === 0) out[o] = out[o]! + args[i * 5 + 3]!;
        if (blk > 0 && out[o + 3] === 1 && !held[i]) {
          if (commit) this.write(keys[i]!, slots[i]!, now + blk, -1, 0, now + blk);
          out[o] = 0;
          out[o + 1] = blk;
          out[o + 2] = blk;
        }
      }
    } else if (commit) {
      for (let i = 0; i < n; i++) {
        if (writes[i] === 1)
          this.write(keys[i]!, slots[i]!, na[i]!, nb[i]!, nc[i]!, now + Math.max(1, Math.ceil(ttl[i]!)));
      }
    }
    return out;
  }

  /**
   * Gives back units a request took: 5 numbers per policy as in `decide` (the cost is what goes back),
   * `at` the time of the decision that took them. Only the window that counted the request is credited
   * (a fixed or sliding window that has rolled over since gets nothing), usage never drops below zero,
   * a GCRA arrival time never moves before `now`, and a block stays in place. Same arithmetic as
   * REFUND_SCRIPT (lua-admin.ts). Returns how many policies changed.
   */
  refund(keys: readonly string[], args: readonly number[], at: number, now: number): number {
    let changed = 0;
    for (let i = 0; i < keys.length; i++) {
      const slot = this.map.get(keys[i]!);
      if (slot === undefined || this.exp[slot]! <= now || this.b[slot]! < 0) continue;
      const o = i * 5;
      const algo = args[o]!;
      const limit = args[o + 1]!;
      const win = args[o + 2]!;
      const cost = args[o + 3]!;
      if (cost <= 0) continue;
      if (algo === 1) {
        const start = this.a[slot]!;
        if (now >= start + win || start > at) continue;
        this.b[slot] = Math.max(0, this.b[slot]! - cost);
      } else if (algo === 2) {
        const idx = Math.floor(now / win);
        const counted = Math.floor(at / win);
        const sidx = this.a[slot]!;
        if (sidx === idx && counted === idx) this.b[slot] = Math.max(0, this.b[slot]! - cost);
        else if (sidx === idx && counted === idx - 1) this.c[slot] = Math.max(0, this.c[slot]! - cost);
        else if (sidx === idx - 1 && counted === sidx) this.b[slot] = Math.max(0, this.b[slot]! - cost);
        else continue;
      } else {
        const tat = this.a[slot]!;
        if (tat <= now) continue;
        const step = win / limit;
        this.a[slot] = Math.ceil(Math.max(now, tat - cost * step));
      }
      changed++;
    }
    return changed;
  }

  /** Drops `keys` (a reset); returns how many existed. */
  remove(keys: readonly string[]): number {
    let removed = 0;
    for (const key of keys) {
      const slot = this.map.get(key);
      if (slot === undefined) continue;
      this.release(slot);
      removed++;
    }
    return removed;
  }

  /**
   * Stores one policy's raw state as the Redis script keeps it (a block when `b` < 0), so that a state
   * read from Redis is evaluated by `decide` with the same arithmetic. `exp` bounds the slot's life.
   */
  load(key: string, a: number, b: number, c: number, exp: number): void {
    this.write(key, NONE, a, b, c, exp);
  }

  private write(key: string, known: number, a: number, b: number, c: number, exp: number): void {
    let slot = known;
    if (slot === NONE) slot = this.map.get(key) ?? NONE;
    if (slot === NONE) {
      slot = this.allocate(key);
      this.pushHead(slot);
    } else if (slot !== this.head) {
      this.unlink(slot);
      this.pushHead(slot);
    }
    this.a[slot] = a;
    this.b[slot] = b;
    this.c[slot] = c;
    this.exp[slot] = exp;
  }

  private allocate(key: string): number {
    if (this.freeTop === 0) {
      if (this.capacity < this.maxKeys) this.resize(Math.min(this.capacity * 2, this.maxKeys));
      else this.evict(this.tail);
    }
    const slot = this.free[--this.freeTop]!;
    this.keys[slot] = key;
    this.map.set(key, slot);
    return slot;
  }

  private evict(slot: number): void {
    this.evictions++;
    this.release(slot);
  }

  private release(slot: number): void {
    this.unlink(slot);
    this.map.delete(this.keys[slot]!);
    this.keys[slot] = undefined;
    this.exp[slot] = 0;
    this.free[this.freeTop++] = slot;
  }

  private unlink(slot: number): void {
    const newer = this.newer[slot]!;
    const older = this.older[slot]!;
    if (newer !== NONE) this.older[newer] = older;
    else if (this.head === slot) this.head = older;
    if (older !== NONE) this.newer[older] = newer;
    else if (this.tail === slot) this.tail = newer;
    this.newer[slot] = NONE;
    this.older[slot] = NONE;
  }

  private pushHead(slot: number): void {
    this.older[slot] = this.head;
    this.newer[slot] = NONE;
    if (this.head !== NONE) this.newer[this.head] = slot;
    this.head = slot;
    if (this.tail === NONE) this.tail = slot;
  }

  /**
   * Frees up to `budget` expired slots' worth of scanning, resuming where the last call stopped, and
   * halves the arrays once three quarters are free. O(budget).
   */
  sweep(now: number, budget = Math.max(4096, this.capacity >>> 3)): void {
    if (this.map.size === 0) {
      if (this.capacity > INITIAL_CAPACITY) this.reset();
      return;
    }
    for (let i = 0; i < budget && i < this.capacity; i++) {
      if (this.cursor >= this.capacity) this.cursor = 0;
      const slot = this.cursor++;
      if (this.keys[slot] !== undefined && this.exp[slot]! <= now) this.release(slot);
    }
    if (this.capacity > INITIAL_CAPACITY && this.map.size < this.capacity >>> 2)
      this.compact(Math.max(INITIAL_CAPACITY, this.capacity >>> 1));
  }

  /** Drops every key and returns the arrays to their initial size. */
  reset(): void {
    this.clearTo(Math.min(INITIAL_CAPACITY, this.maxKeys));
  }

  private clearTo(capacity: number): void {
    this.map = new Map();
    this.keys = [];
    this.a = new Float64Array(0);
    this.b = new Float64Array(0);
    this.c = new Float64Array(0);
    this.exp = new Float64Array(0);
    this.newer = new Int32Array(0);
    this.older = new Int32Array(0);
    this.free = new Int32Array(0);
    this.freeTop = 0;
    this.capacity = 0;
    this.head = this.tail = NONE;
    this.cursor = 0;
    this.resize(capacity);
  }

  private resize(capacity: number): void {
    const grow = <T extends Float64Array | Int32Array>(old: T, make: (n: number) => T) => {
      const next = make(capacity);
      next.set(old.subarray(0, Math.min(old.length, capacity)));
      return next;
    };
    const f64 = (n: number) => new Float64Array(n);
    const i32 = (n: number) => new Int32Array(n);
    this.a = grow(this.a, f64);
    this.b = grow(this.b, f64);
    this.c = grow(this.c, f64);
    this.exp = grow(this.exp, f64);
    this.newer = grow(this.newer, i32);
    this.older = grow(this.older, i32);
    const free = new Int32Array(capacity);
    free.set(this.free.subarray(0, this.freeTop));
    // New slots are handed out lowest first.
    for (let s = capacity - 1; s >= this.capacity; s--) free[this.freeTop++] = s;
    this.free = free;
    this.keys.length = capacity;
    this.capacity = capacity;
  }

  /** Rebuilds into smaller arrays, keeping the LRU order (oldest first). O(live keys). */
  private compact(capacity: number): void {
    const old = { a: this.a, b: this.b, c: this.c, exp: this.exp, keys: this.keys, newer: this.newer, tail: this.tail };
    this.clearTo(capacity);
    for (let s = old.tail; s !== NONE; s = old.newer[s]!) {
      const slot = this.free[--this.freeTop]!;
      this.keys[slot] = old.keys[s];
      this.map.set(old.keys[s]!, slot);
      this.a[slot] = old.a[s]!;
      this.b[slot] = old.b[s]!;
      this.c[slot] = old.c[s]!;
      this.exp[slot] = old.exp[s]!;
      this.pushHead(slot);
    }
  }
}

function makeScratch(n: number) {
  return {
    slot: new Int32Array(n),
    a: new Float64Array(n),
    b: new Float64Array(n),
    c: new Float64Array(n),
    ttl: new Float64Array(n),
    held: new Uint8Array(n),
    write: new Uint8Array(n),
  };
}
