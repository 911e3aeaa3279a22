/**
 * The Redis commands the cache sends, in ioredis' calling convention, and the adapter that gives a
 * node-redis v5 client (`redis` / `@redis/client`) the same shape. ioredis clients are used as they are.
 */
import type { NodeRedisClientLike } from './types.js';

/** The part of a Redis connection the cache uses (an ioredis `Redis` satisfies it as it is). */
export interface Connection {
  /** ioredis' connection status: `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `close`, `end`. */
  readonly status: string;
  readonly isCluster?: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches ioredis' own listener type
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches ioredis' own listener type
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  connect(): Promise<unknown>;
  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  sadd(key: string, member: string): Promise<number>;
  pexpire(key: string, ms: number, mode: 'NX' | 'GT'): Promise<number>;
  smembers(key: string): Promise<string[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  ping(): Promise<string>;
  info(section: string): Promise<string>;
  scan(cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', n: number): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
  quit(): Promise<unknown>;
  disconnect(reconnect?: boolean): void;
}

/** Whether `client` is a node-redis client (it has `isReady`/`sendCommand` and no ioredis `status`). */
export function isNodeRedis(client: unknown): client is NodeRedisClientLike {
  const c = client as Partial<NodeRedisClientLike> & { status?: unknown };
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.sendCommand === 'function' &&
    typeof c.isReady === 'boolean' &&
    c.status === undefined
  );
}

/** node-redis events behind the ioredis events the cache listens to (`close` has no counterpart: `reconnecting` follows). */
const EVENTS: Record<string, string | undefined> = {
  ready: 'ready',
  error: 'error',
  end: 'end',
  reconnecting: 'reconnecting',
  close: undefined,
};

/**
 * A node-redis client in ioredis' calling convention. Commands go through `sendCommand`, so node-redis
 * batches every command of one tick into one socket write, as it does by default.
 */
export class NodeRedisConnection implements Connection {
  readonly isCluster = false;
  private opened = false;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Connection.on
  private readonly mapped = new Map<(...args: any[]) => void, string>();

  constructor(readonly client: NodeRedisClientLike) {
    this.opened = client.isOpen;
  }

  get status(): string {
    const c = this.client;
    if (c.isReady) return 'ready';
    if (c.isOpen) {
      this.opened = true;
      return 'connecting';
    }
    return this.opened ? 'end' : 'wait';
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Connection.on
  on(event: string, listener: (...args: any[]) => void): this {
    const mapped = EVENTS[event];
    if (mapped !== undefined) {
      this.client.on(mapped, listener);
      this.mapped.set(listener, mapped);
    }
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Connection.on
  removeListener(_event: string, listener: (...args: any[]) => void): this {
    const mapped = this.mapped.get(listener);
    if (mapped !== undefined) this.client.off(mapped, listener);
    this.mapped.delete(listener);
    return this;
  }

  connect(): Promise<unknown> {
    this.opened = true;
    return this.client.connect();
  }

  get(key: string): Promise<string | null> {
    return this.client.sendCommand(['GET', key]) as Promise<string | null>;
  }

  mget(keys: string[]): Promise<(string | null)[]> {
    return this.client.sendCommand(['MGET', ...keys]) as Promise<(string | null)[]>;
  }

  set(key: string, value: string, px: 'PX', ms: number, nx?: 'NX'): Promise<string | null> {
    const args = ['SET', key, value, px, String(ms)];
    if (nx !== undefined) args.push(nx);
    return this.client.sendCommand(args) as Promise<string | null>;
  }

  del(...keys: string[]): Promise<number> {
    return this.client.sendCommand(['DEL', ...keys]) as Promise<number>;
  }

  sadd(key: string, member: string): Promise<number> {
    return this.client.sendCommand(['SADD', key, member]) as Promise<number>;
  }

  pexpire(key: string, ms: number, mode: 'NX' | 'GT'): Promise<number> {
    return this.client.sendCommand(['PEXPIRE', key, String(ms), mode]) as Promise<number>;
  }

  smembers(key: string): Promise<string[]> {
    return this.client.sendCommand(['SMEMBERS', key]) as Promise<string[]>;
  }

  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    return this.client.sendCommand(['EVAL', script, String(numKeys), ...args.map(String)]);
  }

  publish(channel: string, message: string): Promise<number> {
    return this.client.sendCommand(['PUBLISH', channel, message]) as Promise<number>;
  }

  ping(): Promise<string> {
    return this.client.sendCommand(['PING']) as Promise<string>;
  }

  info(section: string): Promise<string> {
    return this.client.sendCommand(['INFO', section]) as Promise<string>;
  }

  scan(cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', n: number): Promise<[string, string[]]> {
    return this.client.sendCommand(['SCAN', cursor, match, pattern, count, String(n)]) as Promise<[string, string[]]>;
  }

  unlink(...keys: string[]): Promise<number> {
    return this.client.sendCommand(['UNLINK', ...keys]) as Promise<number>;
  }

  /** The cache never creates node-redis clients, so it never closes one: `quit`/`disconnect` are for owned clients only. */
  quit(): Promise<unknown> {
    return Promise.resolve();
  }

  disconnect(): void {}
}

/** A subscription on its own connection, whichever client it came from. */
export interface Subscriber {
  /** Connected and the subscription acknowledged: a message published now will arrive. */
  readonly ready: boolean;
  close(): void;
}

export interface SubscriberHooks {
  message(message: string): void;
  error(error: unknown): void;
  /** The subscriber's connection became ready (again). */
  ready(): void;
}

/** Subscribes to `channel` on a duplicate of a node-redis client (node-redis resubscribes after a reconnect). */
export function nodeRedisSubscriber(client: NodeRedisClientLike, channel: string, hooks: SubscriberHooks): Subscriber {
  const sub = client.duplicate();
  let closed = false;
  let subscribed = false;
  sub.on('error', (error: unknown) => hooks.error(error));
  sub.on('ready', () => hooks.ready());
  sub
    .connect()
    .then(() => (closed ? undefined : sub.subscribe(channel, (message) => hooks.message(message))))
    .then(() => {
      subscribed = true;
    })
    .catch((error: unknown) => hooks.error(error));
  return {
    // node-redis subscribes again on each reconnect before it reports ready.
    get ready() {
      return subscribed && sub.isReady;
    },
    close() {
      closed = true;
      sub.on('error', () => {});
      if (sub.isOpen) sub.destroy();
    },
  };
}
