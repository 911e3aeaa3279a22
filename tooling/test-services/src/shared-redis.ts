import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { unavailable } from './availability.js';

/** The machine's shared Redis, as `REDIS_URL` names it. */
export const sharedRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One test file's slice of the shared Redis: every key it writes starts with `prefix`. */
export interface SharedRedis {
  url: string;
  /** Unique per call, ends with `:`; `cleanup()` deletes every key that starts with it. */
  prefix: string;
  /** A client owned by this handle (closed by `cleanup()`). */
  client: Redis;
  /** Another client, also closed by `cleanup()`. */
  newClient(options?: RedisOptions): Redis;
  /** Deletes this handle's keys and closes its clients. */
  cleanup(): Promise<void>;
}

const probeOptions: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 1_000,
  retryStrategy: () => null,
};

/** Whether the shared Redis answers PING (under CI a failure throws instead). */
export async function hasSharedRedis(): Promise<boolean> {
  const client = new Redis(sharedRedisUrl, probeOptions);
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    return unavailable('Redis', `no answer from ${sharedRedisUrl} (set REDIS_URL)`, error);
  } finally {
    client.disconnect();
  }
}

/** Connects to the shared Redis with a fresh key prefix for this test file. */
export async function sharedRedis(name = 'test'): Promise<SharedRedis> {
  const prefix = `t:${name}:${randomBytes(4).toString('hex')}:`;
  const clients: Redis[] = [];
  const newClient = (options: RedisOptions = {}) => {
    const client = new Redis(sharedRedisUrl, { maxRetriesPerRequest: 1, ...options });
    client.on('error', () => {});
    clients.push(client);
    return client;
  };
  const client = newClient();
  await client.ping();
  return {
    url: sharedRedisUrl,
    prefix,
    client,
    newClient,
    async cleanup() {
      const admin = new Redis(sharedRedisUrl, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await admin.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        admin.disconnect();
        for (const c of clients) c.disconnect();
      }
    },
  };
}
