import { connectionFor, type Connection } from './client-adapter.js';
import { DeadlineQueue } from './deadline.js';
import { StoreUnavailableError } from './errors.js';
import { DECIDE_BATCH_SCRIPT, DECIDE_BATCH_SHA, DECIDE_SCRIPT, DECIDE_SHA } from './lua.js';
import type { Script } from './lua-admin.js';
import type { Logger, RedisClient, StoreStateEvent } from './types.js';

export interface RedisStoreOptions {
  connection: 'dedicated' | 'shared';
  timeoutMs: number;
  probeIntervalMs: number;
  logger: Logger;
  onStateChange: ((event: StoreStateEvent) => void) | undefined;
}

/** Most decisions one batched script call carries; a larger batch is split. */
const MAX_BATCH = 128;

/** A decision waiting for its batch's script call. */
interface Queued {
  keys: readonly string[];
  now: number;
  args: readonly number[];
  ok(reply: unknown): void;
  failed(cause: unknown): void;
}

/**
 * Runs the decision script with a deadline the package owns and tracks whether Redis is usable.
 * With `connection: 'dedicated'` it talks through its own duplicate of the caller's client, configured
 * to fail fast (no offline queue) and to reconnect within 250 ms; the caller's client is never changed.
 */
export class RedisStore {
  private readonly conn: Connection;
  private readonly owned: boolean;
  private readonly deadlines: DeadlineQueue;
  /** Whether the decisions of one event-loop turn may share one script call (not on a Cluster: their keys may live in other slots). */
  private readonly batching: boolean;
  private batch: Queued[] | undefined;
  private readonly flushBatch = () => {
    const batch = this.batch;
    this.batch = undefined;
    if (batch !== undefined && batch.length > 0) this.send(batch);
  };
  private available = true;
  private downSince = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;

  constructor(
    client: RedisClient,
    private readonly options: RedisStoreOptions,
  ) {
    this.deadlines = new DeadlineQueue(options.timeoutMs);
    const { conn, owned } = connectionFor(client, options.connection === 'dedicated');
    this.conn = conn;
    this.owned = owned;
    this.batching = (conn as { isCluster?: boolean }).isCluster !== true;
    if (owned) {
      this.conn.on('error', () => {
        // Connection errors surface as failed decisions and state-change logs; the event only needs a listener.
      });
      this.conn.on('close', () => {
        if (!this.closed) this.markDown('connection closed');
      });
      this.conn.on('ready', () => {
        this.everReady = true;
        this.markUp();
      });
    }
  }

  /** Whether decisions currently go to Redis. */
  get isAvailable(): boolean {
    return this.available;
  }

  /**
   * The script's reply for one principal's policy keys (`args`: 5 numbers per policy as in the memory
   * store), or a StoreUnavailableError within `timeoutMs`. `now` 0 means Redis `TIME`.
   */
  decide(keys: readonly string[], args: readonly number[], now = 0): Promise<number[]> {
    return new Promise((resolve, reject) =>
      this.run(keys, args, now, (error, reply) => (error ? reject(error) : resolve(reply!))),
    );
  }

  /**
   * Callback form of `decide` for the hot path (one promise fewer per request): `done` runs exactly once,
   * with the reply or a StoreUnavailableError.
   */
  run(
    keys: readonly string[],
    args: readonly number[],
    now: number,
    done: (error: StoreUnavailableError | undefined, reply?: number[]) => void,
  ): void {
    if (this.conn.status !== 'ready') {
      if (this.booting()) {
        // Before the first connection only: wait for it within the same deadline instead of falling back at boot.
        this.firstReady().then(
          () => this.run(keys, args, now, done),
          (error: StoreUnavailableError) => done(error),
        );
        return;
      }
      const error = new StoreUnavailableError(`Redis connection is ${this.conn.status}`);
      this.markDown(error.message);
      done(error);
      return;
    }
    const entry = this.deadlines.add(() => {
      const error = new StoreUnavailableError(`Redis did not answer within ${this.options.timeoutMs} ms`);
      this.markDown(error.message);
      done(error);
    });
    const ok = (reply: unknown) => {
      if (!this.deadlines.settle(entry)) return;
      this.everReady = true;
      if (!this.available) this.markUp();
      done(undefined, reply as number[]);
    };
    const failed = (cause: unknown) => {
      if (!this.deadlines.settle(entry)) return;
      const message = cause instanceof Error ? cause.message : String(cause);
      this.markDown(message);
      done(new StoreUnavailableError(`Redis decision failed: ${message}`, { cause }));
    };
    const queued: Queued = { keys, now, args, ok, failed };
    if (!this.batching) {
      this.send([queued]);
      return;
    }
    let batch = this.batch;
    if (batch === undefined) {
      batch = this.batch = [];
      // After the poll phase: the HTTP requests read in one loop turn (one socket callback each) share a call.
      setImmediate(this.flushBatch);
    }
    batch.push(queued);
    if (batch.length >= MAX_BATCH) {
      this.batch = [];
      this.send(batch);
    }
  }

  /** One decision: EVALSHA of the script; several from one loop turn: one EVALSHA of the batch script. */
  private send(batch: readonly Queued[]): void {
    if (batch.length === 1) {
      const { keys, now, args, ok, failed } = batch[0]!;
      const single = [...keys, now, ...args];
      this.conn.evalsha(DECIDE_SHA, keys.length, ...single).then(ok, (error: unknown) => {
        // After SCRIPT FLUSH or a restart the script cache is empty: EVAL loads it again.
        if (isNoScript(error)) this.conn.eval(DECIDE_SCRIPT, keys.length, ...single).then(ok, failed);
        else failed(error);
      });
      return;
    }
    const args: (string | number)[] = [];
    let numKeys = 0;
    for (const q of batch) {
      for (const k of q.keys) args.push(k);
      numKeys += q.keys.length;
    }
    for (const q of batch) args.push(q.keys.length, q.now, ...q.args);
    const ok = (replies: unknown) => {
      const r = replies as unknown[];
      for (let i = 0; i < batch.length; i++) batch[i]!.ok(r[i]);
    };
    const failed = (error: unknown) => {
      for (const q of batch) q.failed(error);
    };
    this.conn.evalsha(DECIDE_BATCH_SHA, numKeys, ...args).then(ok, (error: unknown) => {
      if (isNoScript(error)) this.conn.eval(DECIDE_BATCH_SCRIPT, numKeys, ...args).then(ok, failed);
      else failed(error);
    });
  }

  private everReady = false;
  private bootWait: Promise<void> | undefined;

  private booting(): boolean {
    if (this.everReady || !this.available) return false;
    const status = this.conn.status;
    return status === 'wait' || status === 'connecting' || status === 'connect';
  }

  private firstReady(): Promise<void> {
    if (!this.bootWait) {
      this.bootWait = new Promise<void>((resolve, reject) => {
        const fail = (reason: string) => {
          clearTimeout(timer);
          this.conn.off('ready', onReady);
          this.conn.off('close', onClose);
          this.bootWait = undefined;
          const error = new StoreUnavailableError(reason);
          this.markDown(error.message);
          reject(error);
        };
        const timer = setTimeout(
          () => fail(`Redis not connected within ${this.options.timeoutMs} ms of the first decision`),
          this.options.timeoutMs,
        );
        const onReady = () => {
          clearTimeout(timer);
          this.conn.off('close', onClose);
          this.bootWait = undefined;
          resolve();
        };
        // A refused connection is known at once: do not sit out the deadline.
        const onClose = () => fail('Redis connection closed before it was ready');
        this.conn.once('ready', onReady);
        this.conn.once('close', onClose);
      });
    }
    return this.bootWait;
  }

  private markDown(reason: string): void {
    if (this.closed || !this.available) return;
    this.available = false;
    this.downSince = Date.now();
    this.options.logger.warn(
      `[tiered-rate-limit] Redis unavailable, policies use their onStoreUnavailable mode: ${reason}`,
      { reason },
    );
    this.options.onStateChange?.({ state: 'unavailable', reason });
    this.scheduleProbe();
  }

  private markUp(): void {
    if (this.closed || this.available) return;
    this.available = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    const outageMs = Date.now() - this.downSince;
    const log = this.options.logger.info ?? this.options.logger.warn;
    log.call(this.options.logger, `[tiered-rate-limit] Redis available again after ${outageMs} ms`, { outageMs });
    this.options.onStateChange?.({ state: 'available', outageMs });
  }

  // While Redis is down no request waits on it: a background PING (same deadline) decides when it is back.
  private scheduleProbe(): void {
    if (this.closed || this.probeTimer) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe();
    }, this.options.probeIntervalMs);
    this.probeTimer.unref?.();
  }

  private async probe(): Promise<void> {
    if (this.closed || this.available || this.probing) return;
    this.probing = true;
    try {
      if (this.conn.status === 'ready') {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('probe timed out')), this.options.timeoutMs * 4);
        });
        try {
          await Promise.race([this.conn.ping(), timeout]);
          this.markUp();
        } finally {
          clearTimeout(timer);
        }
      }
    } catch {
      // still down
    } finally {
      this.probing = false;
      if (!this.available) this.scheduleProbe();
    }
  }

  /**
   * Runs one of the state scripts (lua-admin.ts: get, refund, reset) on a principal's policy `keys` under the
   * same deadline as a decision; rejects with a StoreUnavailableError when Redis is not ready, fails or is too slow.
   */
  script(script: Script, keys: readonly string[], argv: readonly (string | number)[]): Promise<unknown> {
    if (this.conn.status !== 'ready' && !this.booting())
      return Promise.reject(new StoreUnavailableError(`Redis connection is ${this.conn.status}`));
    return new Promise((resolve, reject) => {
      const entry = this.deadlines.add(() =>
        reject(new StoreUnavailableError(`Redis did not answer within ${this.options.timeoutMs} ms`)),
      );
      const ok = (reply: unknown) => {
        if (this.deadlines.settle(entry)) resolve(reply);
      };
      const failed = (cause: unknown) => {
        if (!this.deadlines.settle(entry)) return;
        const message = cause instanceof Error ? cause.message : String(cause);
        reject(new StoreUnavailableError(`Redis call failed: ${message}`, { cause }));
      };
      const send = () =>
        this.conn.evalsha(script.sha, keys.length, ...keys, ...argv).then(ok, (error: unknown) => {
          if (error instanceof Error && error.message.startsWith('NOSCRIPT'))
            this.conn.eval(script.source, keys.length, ...keys, ...argv).then(ok, failed);
          else failed(error);
        });
      if (this.conn.status === 'ready') send();
      else this.firstReady().then(send, failed);
    });
  }

  /** Stops probing and closes the dedicated connection (a shared client is left to its owner). */
  async close(): Promise<void> {
    this.closed = true;
    this.deadlines.close();
    if (this.probeTimer) clearTimeout(this.probeTimer);
    if (this.owned) this.conn.disconnect();
  }
}

const isNoScript = (error: unknown): boolean => error instanceof Error && error.message.startsWith('NOSCRIPT');
