import type { Cluster, Redis } from 'ioredis';
import type { NodeRedisClientLike, RedisClient } from './types.js';

/** The commands and connection events the store uses, in ioredis' convention (an ioredis client is one as it is). */
export interface Connection {
  /** ioredis' status: `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `close`, `end`. */
  readonly status: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches ioredis' listener type
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches ioredis' listener type
  once(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches ioredis' listener type
  off(event: string, listener: (...args: any[]) => void): unknown;
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  ping(): Promise<unknown>;
  disconnect(): void;
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

// node-redis has no `close` per disconnect; it reports a lost connection with `error`, then `reconnecting`.
const EVENTS: Record<string, string> = {
  ready: 'ready',
  error: 'error',
  end: 'end',
  close: 'reconnecting',
  reconnecting: 'reconnecting',
};

const toStrings = (args: readonly (string | number)[]): string[] => {
  const out = new Array<string>(args.length);
  for (let i = 0; i < args.length; i++) out[i] = String(args[i]);
  return out;
};

/**
 * A node-redis client in ioredis' convention. Commands go through `sendCommand`: node-redis writes every
 * command of one tick in one socket write, which is what makes concurrent decisions cheap.
 */
export class NodeRedisConnection implements Connection {
  private opened: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Connection.on
  private readonly wrapped = new Map<(...args: any[]) => void, { event: string; listener: (...args: any[]) => void }>();

  constructor(
    readonly client: NodeRedisClientLike,
    /** Whether `disconnect` closes the client (true only for the limiter's own duplicate). */
    private readonly owned: boolean,
  ) {
    this.opened = client.isOpen;
  }

  get status(): string {
    if (this.client.isReady) return 'ready';
    if (this.client.isOpen) {
      this.opened = true;
      return 'connecting';
    }
    return this.opened ? 'end' : 'wait';
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Connection.on
  on(event: string, listener: (...args: any[]) => void): this {
    const mapped = EVENTS[event];
    if (mapped !== undefined) this.client.on(mapped, listener);
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Connection.on
  once(event: string, listener: (...args: any[]) => void): this {
    const mapped = EVENTS[event];
    if (mapped === undefined) return this;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Connection.on
    const once = (...args: any[]) => {
      this.off(event, listener);
      listener(...args);
    };
    this.wrapped.set(listener, { event: mapped, listener: once });
    this.client.on(mapped, once);
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Connection.on
  off(event: string, listener: (...args: any[]) => void): this {
    const w = this.wrapped.get(listener);
    if (w !== undefined) {
      this.wrapped.delete(listener);
      this.client.off(w.event, w.listener);
      return this;
    }
    const mapped = EVENTS[event];
    if (mapped !== undefined) this.client.off(mapped, listener);
    return this;
  }

  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    return this.client.sendCommand(['EVALSHA', sha, String(numKeys), ...toStrings(args)]);
  }

  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    return this.client.sendCommand(['EVAL', script, String(numKeys), ...toStrings(args)]);
  }

  ping(): Promise<unknown> {
    return this.client.sendCommand(['PING']);
  }

  disconnect(): void {
    if (this.owned && this.client.isOpen) this.client.destroy();
  }
}

const reconnectDelay = (attempt: number) => Math.min(50 * attempt, 250);

/**
 * The connection decisions go through. `dedicated`: a duplicate of the caller's client that fails fast (no
 * offline queue) and reconnects within 250 ms. `shared`: the caller's client as it is. (The decisions of one
 * event-loop turn travel as one script call on either: see RedisStore.)
 */
export function connectionFor(client: RedisClient, dedicated: boolean): { conn: Connection; owned: boolean } {
  if (isNodeRedis(client)) {
    if (!dedicated) return { conn: new NodeRedisConnection(client, false), owned: false };
    // `socket` replaces the original's as a whole: keep its host, port and TLS settings.
    const dup = client.duplicate({
      disableOfflineQueue: true,
      socket: { ...client.options?.socket, connectTimeout: 2_000, reconnectStrategy: reconnectDelay },
    });
    const conn = new NodeRedisConnection(dup, true);
    // Failures surface as failed decisions and state-change logs; `error` only needs a listener before connect.
    dup.on('error', () => {});
    dup.connect().catch(() => {});
    return { conn, owned: true };
  }
  if (!dedicated) return { conn: client as unknown as Connection, owned: false };
  if ('isCluster' in client && client.isCluster) {
    const cluster = client as Cluster;
    const dup = cluster.duplicate([], {
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      redisOptions: {
        ...cluster.options.redisOptions,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        enableOfflineQueue: false,
      },
    });
    return { conn: dup as unknown as Connection, owned: true };
  }
  const dup = (client as Redis).duplicate({
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    connectTimeout: 2_000,
    lazyConnect: false,
  });
  return { conn: dup as unknown as Connection, owned: true };
}
