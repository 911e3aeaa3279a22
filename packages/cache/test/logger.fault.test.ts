import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { canStartRedis, freePort, startRedis, type PrivateRedis } from '@org/test-services';
import { createCache, type Cache, type CacheLogger } from '../src/index.js';

// The logger option on a private redis-server that is killed and restarted: an outage is one warn line, a recovery
// one info line, whatever the traffic in between, and no line carries the password of the Redis URL.
const redisOk = canStartRedis();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = 'pw-9f3c1e-do-not-log';

interface Line {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(): CacheLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    void lines.push({ level, fields, message });
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(10);
  return check();
}

describe.skipIf(!redisOk)('logger option (private redis-server)', () => {
  let server: PrivateRedis | undefined;
  let cache: Cache | undefined;
  afterEach(async () => {
    await cache?.close();
    await server?.stop();
    cache = server = undefined;
  });

  it('logs an outage once and the recovery once, without the password', async () => {
    // An ACL user with a password (the default user stays open for the harness's own PING).
    server = await startRedis({ args: ['--user', 'app', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'] });
    const logger = recordingLogger();
    cache = createCache({ redis: `redis://app:${PASSWORD}@127.0.0.1:${server.port}`, logger, breakerMaxDelayMs: 100 });
    expect(await until(() => cache!.stats().redis === 'up', 10_000)).toBe(true);

    await server.kill();
    expect(await server.ping(200)).toBe(false);
    // Traffic during the outage: every call is served from memory, none adds a log line.
    for (let i = 0; i < 200; i++) {
      await cache.set(`k${i % 10}`, i, 60);
      await cache.get(`k${i % 10}`);
    }
    await sleep(500);
    expect(cache.stats().redis).toBe('down');
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(logger.lines.find((l) => l.level === 'warn')?.message).toMatch(/Redis is unavailable; serving from memory/);

    await server.restart();
    expect(await until(() => logger.lines.some((l) => l.level === 'info'), 10_000)).toBe(true);
    const back = logger.lines.find((l) => l.level === 'info')!;
    expect(back.message).toMatch(/Redis is back/);
    expect(back.fields.downtimeMs).toBeGreaterThan(400);
    expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toHaveLength(1);
    expect(JSON.stringify(logger.lines)).not.toContain(PASSWORD);
  });

  it('logs once when Redis is unreachable from the start, and a broken logger breaks nothing', async () => {
    const port = await freePort();
    const logger = recordingLogger();
    cache = createCache({ redis: `redis://user:${PASSWORD}@127.0.0.1:${port}`, logger });
    await sleep(1_000);
    for (let i = 0; i < 50; i++) await cache.get('k');
    expect(logger.lines.map((l) => l.level)).toEqual(['warn']);
    expect(logger.lines[0]!.message).toMatch(/not reachable/);
    expect(logger.lines[0]!.fields).toMatchObject({ cache: 'default', code: 'CACHE_REDIS_ERROR' });
    expect(JSON.stringify(logger.lines)).not.toContain(PASSWORD);
    await cache.close();

    const throwing: CacheLogger = {
      error: () => {
        throw new Error('logger down');
      },
      warn: () => {
        throw new Error('logger down');
      },
      info: () => {},
    };
    cache = createCache({ redis: `redis://127.0.0.1:${port}`, logger: throwing });
    await sleep(300);
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
  });

  it('writes through a real pino logger', async () => {
    const port = await freePort();
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    cache = createCache({ redis: `redis://app:${PASSWORD}@127.0.0.1:${port}`, logger, name: 'sessions' });
    expect(await until(() => lines.length > 0, 5_000)).toBe(true);
    await cache.get('k');
    expect(lines).toHaveLength(1);
    // pino's level 40 is warn; the fields come first, the message in `msg`.
    expect(lines[0]).toMatchObject({ level: 40, cache: 'sessions', code: 'CACHE_REDIS_ERROR' });
    expect(lines[0]!.msg).toMatch(/not reachable/);
    expect(JSON.stringify(lines)).not.toContain(PASSWORD);
  });
});
