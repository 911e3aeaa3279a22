import type { Cluster, Redis, RedisOptions } from 'ioredis';
import {
  NodeRedisConnection,
  isNodeRedis,
  nodeRedisSubscriber,
  type Connection,
  type Subscriber,
} from './client-adapter.js';
import { DeadlineQueue, backoff, withTimeout } from './deadline.js';
import { CacheRedisError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { BreakerState } from './types.js';
import { loadPeer } from './peers.js';

export type Client = Connection;

export interface RedisTierHooks {
  /** Redis became usable (connected, ready and the breaker closed). */
  up(): void;
  down(reason: string): void;
  error(error: CacheRedisError, operation: string): void;
  breaker(state: BreakerState): void;
  message(message: string): void;
  /** The subscriber reconnected: messages sent meanwhile were lost. */
  resubscribed(): void;
}

const RETRY_BASE_MS = 50;

/** Options for the clients the cache creates: fail fast, no offline queue, no stale resends. */
function ownOptions(o: ResolvedOptions): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Measured (the Redis get benchmark): auto-pipelining raised throughput a little but doubled p99 at concurrency 50.
    enableAutoPipelining: false,
    connectTimeout: o.connectTimeoutMs,
    retryStrategy: (times: number) => backoff(times, RETRY_BASE_MS, o.reconnectMaxDelayMs),
  };
}

/** The subscriber may queue its SUBSCRIBE until connected; it sends nothing else. */
function subscriberOptions(o: ResolvedOptions): RedisOptions {
  return {
    ...ownOptions(o),
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    enableAutoPipelining: false,
    autoResubscribe: true,
  };
}

const isCluster = (client: unknown): client is Cluster => (client as { isCluster?: boolean }).isCluster === true;

/** Most keys one MGET carries; a larger tick is split. */
const MAX_BATCH = 512;

/** A GET waiting for the MGET of its tick. */
interface QueuedGet {
  key: string;
  settle(raw: string | null | undefined, error?: unknown): void;
}

/** Connection states in which a client that was never ready is still coming up. */
const BOOTING = new Set(['wait', 'connecting', 'connect']);

function asCacheError(error: unknown, what: string): CacheRedisError {
  if (error instanceof CacheRedisError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CacheRedisError(`Redis ${what} failed: ${message}`, 'CACHE_REDIS_ERROR', error);
}

/**
 * Redis behind a deadline and a half-open circuit breaker. Commands are only sent while the
 * connection is `ready` and the breaker closed, so nothing ever waits in an offline queue, also
 * with a client passed in on ioredis defaults. A failure or timeout counts toward the breaker; once
 * open, PING probes (with capped exponential backoff and jitter, and at once on `ready`) close it
 * as soon as Redis answers.
 */
export class RedisTier {
  readonly client: Client;
  readonly cluster: boolean;
  /** Which client library carries the commands. */
  readonly library: 'ioredis' | 'node-redis';
  private readonly owned: boolean;
  private sub: Subscriber | undefined;
  private everReady = false;
  /** A wait for the first connection ran out: from then on nothing waits for it (memory serves until it is up). */
  private bootOver = false;
  private bootWaiters: ((usable: boolean) => void)[] = [];
  private batch: QueuedGet[] | undefined;
  private readonly flushBatch = () => this.sendBatch();
  private subWasReady = false;
  private state: BreakerState = 'closed';
  private failures = 0;
  private attempt = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private reportedUp = false;
  private closed = false;
  private readonly deadlines: DeadlineQueue;
  private readonly detach: (() => void)[] = [];

  constructor(
    private readonly o: ResolvedOptions,
    private readonly hooks: RedisTierHooks,
    private readonly channel: string | undefined,
  ) {
    this.deadlines = new DeadlineQueue(o.operationTimeoutMs);
    const given = o.redis!;
    if (typeof given === 'string') {
      const { Redis: RedisCtor } = loadPeer<{ Redis: new (url: string, options: RedisOptions) => Redis }>('ioredis');
      this.client = new RedisCtor(given, ownOptions(o)) as unknown as Client;
      this.owned = true;
      this.library = 'ioredis';
    } else if (isNodeRedis(given)) {
      this.client = new NodeRedisConnection(given);
      this.owned = false;
      this.library = 'node-redis';
    } else {
      this.client = given as unknown as Client;
      this.owned = false;
      this.library = 'ioredis';
    }
    this.cluster = isCluster(this.client);
    this.listen(this.client, 'error', (error: unknown) =>
      this.hooks.error(asCacheError(error, 'connection'), 'connection'),
    );
    this.listen(this.client, 'ready', () => this.onReady());
    for (const event of ['close', 'end', 'reconnecting']) {
      this.listen(this.client, event, () => {
        this.sync(`connection ${event}`);
        // A refused first connection is known at once: nobody sits out the deadline for it.
        this.endBoot(false);
      });
    }
    if (channel !== undefined) this.startSubscriber(channel);
    // A lazyConnect client would wait for a first command, which the cache only sends once ready.
    if (this.client.status === 'wait') this.client.connect().catch(() => {});
    this.sync('connecting');
  }

  /** Whether commands may be sent now. */
  get usable(): boolean {
    return this.state === 'closed' && this.client.status === 'ready';
  }

  get breakerState(): BreakerState {
    return this.state;
  }

  get status(): string {
    return this.client.status;
  }

  get subscriberReady(): boolean {
    return this.sub !== undefined && this.sub.ready;
  }

  /** True before the first connection was ever ready, while it is still being made. */
  get booting(): boolean {
    return (
      !this.everReady && !this.bootOver && !this.closed && this.state === 'closed' && BOOTING.has(this.client.status)
    );
  }

  /**
   * Before the first connection: resolves once it is ready (true), or false when it fails or takes
   * longer than `ms`. Afterwards it resolves at once with `usable`.
   */
  whenBooted(ms: number): Promise<boolean> {
    if (!this.booting) return Promise.resolve(this.usable);
    return new Promise<boolean>((resolve) => {
      // Not unref'd: an operation awaits the first connection, and the process must stay alive until it is answered.
      const timer = setTimeout(() => {
        this.bootOver = true;
        this.endBoot(this.usable);
      }, ms);
      const done = (usable: boolean) => {
        clearTimeout(timer);
        resolve(usable);
      };
      this.bootWaiters.push(done);
    });
  }

  private endBoot(usable: boolean): void {
    if (!usable) this.bootOver = true;
    if (this.bootWaiters.length === 0) return;
    const waiters = this.bootWaiters;
    this.bootWaiters = [];
    for (const w of waiters) w(usable);
  }

  /**
   * Deletes `keys` as one operation under one deadline (one breaker failure at most): one DEL, or one per key on a
   * Cluster, where the keys live in different slots.
   */
  deleteAll(keys: readonly string[]): Promise<unknown> {
    if (keys.length === 0) return Promise.resolve(0);
    return this.exec<unknown>('DEL', (c) => (this.cluster ? Promise.all(keys.map((k) => c.del(k))) : c.del(...keys)));
  }

  /** Runs one command under the deadline and accounts its outcome to the breaker. */
  exec<T>(what: string, command: (client: Client) => Promise<T>): Promise<T> {
    if (!this.usable) return Promise.reject(new CacheRedisError('Redis is unavailable', 'CACHE_REDIS_UNAVAILABLE'));
    let promise: Promise<T>;
    try {
      promise = command(this.client);
    } catch (error) {
      promise = Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      const deadline = this.deadlines.track((timeout) => reject(this.fail(timeout, what)), what);
      promise.then(
        (value) => {
          if (deadline.done) return; // too late: the caller was already served from memory
          deadline.done = true;
          this.failures = 0;
          resolve(value);
        },
        (error: unknown) => {
          if (deadline.done) return;
          deadline.done = true;
          reject(this.fail(error, what));
        },
      );
    });
  }

  /**
   * GET under the deadline: `exec` specialised for the hottest command. Resolves with `map(reply)`,
   * or with `recover()` when Redis fails or is late, so the caller needs no second promise.
   */
  get<T>(key: string, map: (raw: string | null) => T, recover: () => T): Promise<T> {
    if (!this.usable) return Promise.resolve(recover());
    return new Promise<T>((resolve, reject) => {
      this.enqueue(key, (raw) => {
        if (raw === undefined) {
          resolve(recover());
          return;
        }
        try {
          resolve(map(raw));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** GET under the deadline, batched like `get`; rejects with a CacheRedisError. */
  fetch(key: string): Promise<string | null> {
    if (!this.usable) return Promise.reject(new CacheRedisError('Redis is unavailable', 'CACHE_REDIS_UNAVAILABLE'));
    return new Promise<string | null>((resolve, reject) => {
      this.enqueue(key, (raw, error) => (raw === undefined ? reject(error) : resolve(raw)));
    });
  }

  /**
   * Queues a GET for this tick: every GET issued before the tick ends goes out as one MGET (one write,
   * one reply, one deadline and at most one breaker failure). A Cluster gets one GET per key, as the keys
   * may live in different slots. `settle` receives the reply, or undefined and the error.
   */
  private enqueue(key: string, settle: QueuedGet['settle']): void {
    if (this.cluster) {
      this.sendGets([{ key, settle }]);
      return;
    }
    let batch = this.batch;
    if (batch === undefined) {
      batch = this.batch = [];
      process.nextTick(this.flushBatch);
    }
    batch.push({ key, settle });
    if (batch.length >= MAX_BATCH) {
      this.batch = [];
      this.sendGets(batch);
    }
  }

  private sendBatch(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (batch !== undefined && batch.length > 0) this.sendGets(batch);
  }

  private sendGets(batch: QueuedGet[]): void {
    const what = batch.length === 1 ? 'GET' : 'MGET';
    const failAll = (error: CacheRedisError) => {
      for (const q of batch) q.settle(undefined, error);
    };
    if (!this.usable) {
      failAll(new CacheRedisError('Redis is unavailable', 'CACHE_REDIS_UNAVAILABLE'));
      return;
    }
    const deadline = this.deadlines.track((timeout) => failAll(this.fail(timeout, what)), what);
    let command: Promise<(string | null)[] | string | null>;
    try {
      command = batch.length === 1 ? this.client.get(batch[0]!.key) : this.client.mget(batch.map((q) => q.key));
    } catch (error) {
      command = Promise.reject(error);
    }
    command.then(
      (reply) => {
        if (deadline.done) return; // too late: the callers were already served from memory
        deadline.done = true;
        this.failures = 0;
        if (batch.length === 1) batch[0]!.settle(reply as string | null);
        else for (let i = 0; i < batch.length; i++) batch[i]!.settle((reply as (string | null)[])[i] ?? null);
      },
      (error: unknown) => {
        if (deadline.done) return;
        deadline.done = true;
        failAll(this.fail(error, what));
      },
    );
  }

  /** A command with its own, longer deadline (SCAN/UNLINK batches of clear). */
  async slow<T>(what: string, ms: number, command: (client: Client) => Promise<T>): Promise<T> {
    if (!this.usable) throw new CacheRedisError('Redis is unavailable', 'CACHE_REDIS_UNAVAILABLE');
    try {
      return await withTimeout(command(this.client), ms, what);
    } catch (error) {
      throw this.fail(error, what);
    }
  }

  publish(message: string): void {
    if (this.channel === undefined || !this.usable) return;
    this.exec('PUBLISH', (c) => c.publish(this.channel!, message)).catch(() => {
      // already accounted for by exec; an invalidation that cannot be sent ages out with nearCacheTtl
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.deadlines.flush();
    for (const undo of this.detach) undo();
    this.sub?.close();
    this.endBoot(false);
    if (this.owned) {
      this.client.on('error', () => {});
      if (this.client.status === 'ready') await withTimeout(this.client.quit(), 500, 'QUIT').catch(() => {});
      this.client.disconnect();
    }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ioredis types its listeners with any[]
  private listen(client: Client, event: string, listener: (...args: any[]) => void): void {
    client.on(event, listener);
    this.detach.push(() => client.removeListener(event, listener));
  }

  private fail(error: unknown, what: string): CacheRedisError {
    const wrapped = asCacheError(error, what);
    this.hooks.error(wrapped, what);
    // A reply error (wrong type, script error) says nothing about availability.
    const name = (error as { name?: string } | undefined)?.name;
    const replyError = name === 'ReplyError' || name === 'ErrorReply';
    if (
      !replyError &&
      wrapped.code !== 'CACHE_REDIS_UNAVAILABLE' &&
      this.state === 'closed' &&
      ++this.failures >= this.o.breakerThreshold
    ) {
      this.open(wrapped.code === 'CACHE_REDIS_TIMEOUT' ? 'timeouts' : 'errors');
    }
    return wrapped;
  }

  private open(reason: string): void {
    this.state = 'open';
    this.failures = 0;
    this.hooks.breaker('open');
    this.sync(`breaker open (${reason})`);
    // A silent socket (black hole, frozen server) is only noticed by TCP keepalive much later:
    // drop a client we own so that it reconnects, with its own connect timeout.
    if (this.owned && reason === 'timeouts' && !this.cluster) this.client.disconnect(true);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.closed) return;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    const delay = backoff(this.attempt++, RETRY_BASE_MS, this.o.breakerMaxDelayMs);
    this.probeTimer = setTimeout(() => void this.probe(), delay);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    this.probeTimer = undefined;
    if (this.closed || this.state === 'closed') return;
    if (this.client.status !== 'ready') {
      // The `ready` event probes at once; keep a slow timer in case it never comes.
      this.scheduleProbe();
      return;
    }
    this.state = 'half-open';
    this.hooks.breaker('half-open');
    try {
      await withTimeout(this.client.ping(), Math.max(this.o.operationTimeoutMs, 100), 'PING');
      if (this.closed) return;
      this.state = 'closed';
      this.attempt = 0;
      this.failures = 0;
      this.hooks.breaker('closed');
      this.sync('probe answered');
    } catch (error) {
      if (this.closed) return;
      this.hooks.error(asCacheError(error, 'PING probe'), 'probe');
      this.state = 'open';
      this.hooks.breaker('open');
      this.scheduleProbe();
    }
  }

  private onReady(): void {
    if (this.state === 'open') {
      if (this.probeTimer) clearTimeout(this.probeTimer);
      void this.probe();
    } else {
      this.sync('ready');
    }
  }

  /** Reports a change of usability to the cache (up: drop outage writes; down: serve memory). */
  private sync(reason: string): void {
    if (this.closed) return;
    const usable = this.usable;
    if (usable) {
      this.everReady = true;
      this.endBoot(true);
    }
    if (usable === this.reportedUp) return;
    this.reportedUp = usable;
    if (usable) this.hooks.up();
    else this.hooks.down(reason);
  }

  private startSubscriber(channel: string): void {
    const hooks = {
      error: (error: unknown) => this.hooks.error(asCacheError(error, 'subscriber connection'), 'subscriber'),
      message: (message: string) => this.hooks.message(message),
      ready: () => {
        if (this.subWasReady) this.hooks.resubscribed();
        this.subWasReady = true;
      },
    };
    if (this.client instanceof NodeRedisConnection) {
      this.sub = nodeRedisSubscriber(this.client.client, channel, hooks);
      return;
    }
    let sub: Redis | Cluster;
    if (this.owned) {
      const { Redis: RedisCtor } = loadPeer<{ Redis: new (url: string, options: RedisOptions) => Redis }>('ioredis');
      sub = new RedisCtor(this.o.redis as string, subscriberOptions(this.o));
    } else if (this.cluster) {
      sub = (this.client as unknown as Cluster).duplicate();
    } else {
      sub = (this.client as unknown as Redis).duplicate(subscriberOptions(this.o));
    }
    // `ready` is only claimed once SUBSCRIBE was acknowledged on the current connection: a connection that
    // is up but not yet subscribed would lose a wake-up, and its waiters would sleep until their next poll.
    let subscribed = false;
    const subscribe = () => {
      sub.subscribe(channel).then(
        () => {
          subscribed = true;
        },
        (error: unknown) => this.hooks.error(asCacheError(error, 'SUBSCRIBE'), 'subscribe'),
      );
    };
    sub.on('error', hooks.error);
    sub.on('message', (_channel: string, message: string) => hooks.message(message));
    sub.on('close', () => {
      subscribed = false;
    });
    sub.on('ready', () => {
      hooks.ready();
      // ioredis resubscribes by itself; this second SUBSCRIBE only tells when it took effect.
      if (!subscribed) subscribe();
    });
    subscribe();
    this.sub = {
      get ready() {
        return subscribed && sub.status === 'ready';
      },
      close() {
        // Keep swallowing errors of the client being torn down.
        sub.on('error', () => {});
        sub.disconnect();
      },
    };
  }
}
