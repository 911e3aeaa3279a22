// A Redis logical database of its own on the shared Redis, so that the app's unprefixed keys (cache, rate limits)
// never meet another test's. A database is claimed with SET NX on a key in database 0 (renewed while held) and
// emptied when released.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { sharedRedisUrl } from '@org/test-services';

export interface RedisDb {
  /** REDIS_URL for the app: the shared server, this database. */
  url: string;
  db: number;
  release(): Promise<void>;
}

const CLAIM_MS = 10 * 60_000;

export async function claimRedisDb(): Promise<RedisDb> {
  const admin = new Redis(sharedRedisUrl, { maxRetriesPerRequest: 1 });
  const owner = `${process.pid}:${randomBytes(4).toString('hex')}`;
  const databases = Number(((await admin.config('GET', 'databases')) as string[])[1] ?? 16);
  for (let db = databases - 1; db >= 1; db--) {
    const key = `e2e:redis-db:${db}`;
    if ((await admin.set(key, owner, 'PX', CLAIM_MS, 'NX')) !== 'OK') continue;
    const probe = new Redis(sharedRedisUrl, { db, maxRetriesPerRequest: 1 });
    // A database someone else already writes to (outside this protocol) is left alone.
    if ((await probe.dbsize()) > 0) {
      probe.disconnect();
      await admin.del(key);
      continue;
    }
    const renew = setInterval(() => void admin.pexpire(key, CLAIM_MS).catch(() => undefined), CLAIM_MS / 4);
    renew.unref();
    const url = new URL(sharedRedisUrl);
    url.pathname = `/${db}`;
    return {
      url: url.toString(),
      db,
      async release() {
        clearInterval(renew);
        await probe.flushdb().catch(() => undefined);
        probe.disconnect();
        if ((await admin.get(key)) === owner) await admin.del(key);
        admin.disconnect();
      },
    };
  }
  admin.disconnect();
  throw new Error(`no free Redis database on ${sharedRedisUrl} (databases 1-${databases - 1} are claimed or in use)`);
}
