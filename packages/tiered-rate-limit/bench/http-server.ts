// One HTTP server under test, in its own process so that the load generator does not share its CPU
// time slice. argv: mode, redis url, key prefix. Reports its port over IPC.
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import { rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { createClient } from 'redis';
import { defineTiers, rateLimitDecision, tieredRateLimit } from '../dist/index.js';
import { DECIDE_SHA, DECIDE_SCRIPT } from '../src/lua.js';

const [mode, url, prefix] = process.argv.slice(2) as [string, string, string];
const redis = new Redis(url);
const app = express();
const sources: Record<string, number> = {};
let requests = 0;
let mark = { cpu: process.cpuUsage(), requests: 0 };
app.use((_req, _res, next) => {
  requests++;
  next();
});
const accounts = new Map([['acct-1', 'bench']]);
const tiers = defineTiers({
  bench: { policies: { general: { limit: 1e9, window: 60 }, analysis: { limit: 1e9, window: 3600 } } },
});

if (mode === 'ours' || mode === 'ours-1' || mode === 'ours-1-node-redis' || mode === 'ours-noheaders') {
  let client: Redis | ReturnType<typeof createClient> = redis;
  if (mode === 'ours-1-node-redis') {
    client = createClient({ url });
    await client.connect();
  }
  app.use(
    tieredRateLimit({
      tiers,
      redis: client,
      prefix,
      key: (req) => req.get('x-api-key'),
      resolveTier: (req) => accounts.get(req.get('x-api-key') ?? ''),
      policies: mode === 'ours' || mode === 'ours-noheaders' ? ['general', 'analysis'] : ['general'],
      headers: mode !== 'ours-noheaders',
      // This benchmark measures the Redis path: a loaded machine must not trip the fallback.
      timeoutMs: 1_000,
    }),
  );
  app.use((_req, res, next) => {
    const source = rateLimitDecision(res)?.source ?? 'none';
    sources[source] = (sources[source] ?? 0) + 1;
    next();
  });
} else if (mode === 'floor') {
  // Hand-written: the same two-policy decision as one EVALSHA of the same script, three headers.
  await redis.script('LOAD', DECIDE_SCRIPT);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const key = req.get('x-api-key') ?? req.ip ?? '';
    redis
      .evalsha(
        DECIDE_SHA,
        2,
        `${prefix}{${key}}:general`,
        `${prefix}{${key}}:analysis`,
        0,
        1,
        1e9,
        60_000,
        1,
        0,
        1,
        1e9,
        3_600_000,
        1,
        0,
      )
      .then((reply) => {
        const r = reply as number[];
        res.setHeader('X-RateLimit-Limit', '1000000000');
        res.setHeader('X-RateLimit-Remaining', String(r[2]));
        res.setHeader('X-RateLimit-Reset', String(Math.ceil((r[1]! + r[3]!) / 1000)));
        if (r[0] === 1) next();
        else res.status(429).end();
      }, next);
  });
} else if (mode === 'erl-redis') {
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: 1e9,
      standardHeaders: 'draft-8',
      legacyHeaders: true,
      keyGenerator: (req) => req.get('x-api-key') ?? 'anon',
      store: new RedisStore({
        prefix,
        sendCommand: (...args: string[]) => redis.call(args[0]!, ...args.slice(1)) as never,
      }),
    }),
  );
} else if (mode === 'rlf-redis') {
  // rate-limiter-flexible's documented Express middleware: consume, three X-RateLimit headers, 429 on rejection.
  const rlf = new RateLimiterRedis({ storeClient: redis, points: 1e9, duration: 60, keyPrefix: `${prefix}rlf` });
  app.use((req: Request, res: Response, next: NextFunction) => {
    rlf.consume(req.get('x-api-key') ?? req.ip ?? '').then(
      (r) => {
        res.setHeader('X-RateLimit-Limit', '1000000000');
        res.setHeader('X-RateLimit-Remaining', String(r.remainingPoints));
        res.setHeader('X-RateLimit-Reset', String(Math.ceil((Date.now() + r.msBeforeNext) / 1000)));
        next();
      },
      (rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) res.status(429).end();
        else next(rejection);
      },
    );
  });
} else if (mode !== 'bare') {
  throw new Error(`unknown mode ${mode}`);
}
app.get('/api/workflows', (_req, res) => {
  res.json({ success: true, data: [] });
});
const server = app.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (m) => {
  if (m === 'mark') {
    // Start of the measured section: module loading and JIT warm-up are not charged to requests.
    mark = { cpu: process.cpuUsage(), requests };
  }
  if (m === 'sources') {
    const cpu = process.cpuUsage(mark.cpu);
    process.send!({ sources, cpuUsPerRequest: (cpu.user + cpu.system) / (requests - mark.requests) });
  }
  if (m === 'exit') {
    server.close();
    redis.disconnect();
    process.exit(0);
  }
});
