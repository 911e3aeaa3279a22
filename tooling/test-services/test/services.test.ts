import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canStartPostgres,
  canStartRedis,
  canStartRedisCluster,
  hasSharedPostgres,
  hasSharedRedis,
  listen,
  prometheusBinary,
  startPrometheus,
  waitFor,
  sharedPostgres,
  sharedPostgresUrl,
  sharedRedis,
  sharedRedisUrl,
  startPostgres,
  startRedis,
  redisServerBin,
  startRedisCluster,
} from '../src/index.js';

const redisUp = await hasSharedRedis();
const postgresUp = await hasSharedPostgres();

/** The identity of the shared servers, to prove the fault tests never touched them. */
async function sharedIdentity() {
  const redis = new Redis(sharedRedisUrl, { maxRetriesPerRequest: 1 });
  const client = new pg.Client({ connectionString: sharedPostgresUrl });
  await client.connect();
  try {
    const info = await redis.info('server');
    const start = await client.query('SELECT pg_postmaster_start_time()::text AS t');
    return {
      redisPid: /process_id:(\d+)/.exec(info)?.[1],
      redisRunId: /run_id:(\w+)/.exec(info)?.[1],
      postgresStart: (start.rows[0] as { t: string }).t,
    };
  } finally {
    redis.disconnect();
    await client.end();
  }
}

const before = redisUp && postgresUp ? await sharedIdentity() : undefined;

afterAll(async () => {
  if (before) expect(await sharedIdentity()).toEqual(before);
});

describe.skipIf(!redisUp)('sharedRedis', () => {
  it('isolates each handle by prefix and deletes only its own keys', async () => {
    const a = await sharedRedis('a');
    const b = await sharedRedis('b');
    expect(a.prefix).not.toBe(b.prefix);
    await a.client.set(`${a.prefix}k`, '1');
    await b.client.set(`${b.prefix}k`, '2');
    await a.cleanup();
    const check = new Redis(sharedRedisUrl);
    expect(await check.exists(`${a.prefix}k`)).toBe(0);
    expect(await check.get(`${b.prefix}k`)).toBe('2');
    await b.cleanup();
    expect(await check.exists(`${b.prefix}k`)).toBe(0);
    check.disconnect();
  });
});

describe.skipIf(!postgresUp)('sharedPostgres', () => {
  it('gives each handle its own database and drops it on cleanup', async () => {
    const db = await sharedPostgres('iso');
    await db.pool.query('CREATE TABLE t (id int)');
    const open = await db.pool.connect(); // a leaked connection must not block the drop
    const admin = new pg.Client({ connectionString: sharedPostgresUrl });
    await admin.connect();
    const exists = async () =>
      (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.database])).rowCount;
    expect(await exists()).toBe(1);
    open.release();
    await db.cleanup();
    expect(await exists()).toBe(0);
    await admin.end();
  });
});

describe.skipIf(!canStartRedis())('startRedis', () => {
  it('is really killed (PING fails), restarted on the same port, and paused', async () => {
    const redis = await startRedis();
    try {
      expect(await redis.ping()).toBe(true);
      const pid = redis.pid!;
      await redis.kill();
      expect(() => process.kill(pid, 0)).toThrow();
      expect(await redis.ping(300)).toBe(false);

      await redis.restart();
      expect(await redis.ping()).toBe(true);
      expect(redis.pid).not.toBe(pid);

      await redis.pause(600);
      const started = Date.now();
      expect(await redis.ping(200)).toBe(false);
      await new Promise((r) => setTimeout(r, 600 - (Date.now() - started)));
      expect(await redis.ping()).toBe(true);
    } finally {
      await redis.stop();
    }
  });
});

describe.skipIf(!canStartPostgres())('startPostgres', () => {
  it('really stops and starts, survives SIGKILL, keeps its data, and terminates backends', async () => {
    const server = await startPostgres();
    try {
      const pool = new pg.Pool({ connectionString: server.url, max: 3 });
      pool.on('error', () => {});
      await pool.query('CREATE TABLE kept (v text)');
      await pool.query("INSERT INTO kept VALUES ('x')");

      const idle = await Promise.all([pool.connect(), pool.connect()]);
      for (const c of idle) c.release();
      expect(await server.terminateBackends()).toBeGreaterThanOrEqual(2);

      await server.stop();
      expect(await server.ping(300)).toBe(false);
      await server.start();
      expect(await server.ping()).toBe(true);

      const pid = server.pid!;
      await server.kill();
      expect(() => process.kill(pid, 0)).toThrow();
      expect(await server.ping(300)).toBe(false);
      await server.start();
      const rows = await pool.query('SELECT v FROM kept');
      expect(rows.rows).toEqual([{ v: 'x' }]);
      await pool.end();
    } finally {
      await server.destroy();
    }
  });
});

describe.skipIf(!canStartRedis())('REDIS_SERVER_BIN', () => {
  it('chooses the binary of private servers (a path or a name on PATH); a missing one is reported, not guessed', async () => {
    const before = process.env.REDIS_SERVER_BIN;
    try {
      process.env.REDIS_SERVER_BIN = 'redis-server';
      const viaName = redisServerBin();
      expect(viaName).toMatch(/\/redis-server$/);
      process.env.REDIS_SERVER_BIN = viaName;
      expect(redisServerBin()).toBe(viaName);
      const server = await startRedis();
      expect(await server.ping()).toBe(true);
      await server.stop();
      process.env.REDIS_SERVER_BIN = '/nonexistent/valkey-server';
      expect(redisServerBin()).toBeUndefined();
    } finally {
      if (before === undefined) delete process.env.REDIS_SERVER_BIN;
      else process.env.REDIS_SERVER_BIN = before;
    }
  });
});

describe.skipIf(!canStartRedisCluster())('startRedisCluster', () => {
  it('joins three masters that serve every slot', async () => {
    const cluster = await startRedisCluster();
    const client = cluster.client();
    try {
      for (let i = 0; i < 30; i++) await client.set(`k${i}`, String(i));
      expect(await client.get('k29')).toBe('29');
      const masters = (await client.cluster('NODES')) as string;
      expect(masters.split('\n').filter((l) => l.includes('master')).length).toBe(3);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  });
});

describe('listen', () => {
  it('serves a handler on a free loopback port and closes keep-alive connections', async () => {
    const server = await listen((_req, res) => res.end('hi'));
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(await (await fetch(server.url)).text()).toBe('hi');
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();
  });
});

describe.skipIf(!prometheusBinary('prometheus'))('startPrometheus', () => {
  it('scrapes a target, answers queries, and stops', async () => {
    const target = await listen((_req, res) => res.end('# TYPE probe_value gauge\nprobe_value 42\n'));
    const prom = await startPrometheus({
      scrapeConfigs: ['  - job_name: t', `    static_configs: [{ targets: ['127.0.0.1:${target.port}'] }]`],
    });
    try {
      await waitFor(
        'a scraped sample',
        async () => (await prom.query('probe_value{job="t"}')).length === 1,
        20_000,
        200,
      );
      expect((await prom.query('probe_value{job="t"}'))[0]!.value[1]).toBe('42');
      await expect(prom.query('probe_value{')).rejects.toThrow(/parse error/);
    } finally {
      await prom.stop();
      await target.close();
    }
    await expect(fetch(`${prom.url}/-/ready`)).rejects.toThrow();
  });
});
