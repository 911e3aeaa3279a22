// One contending instance for the cross-process accuracy test (and the bench's exactness and outage-share sections): a separate Node process with its own
// limiter and Redis connection. Messages: { id, key, config, attempts } -> { id, allowed }.
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createLimiter, defineTiers, type Limiter } from '../../src/index.js';

// argv: redis url, key prefix, [fallbackShare], [timeoutMs], [client: ioredis | node-redis]
const url = process.argv[2]!;
const prefix = process.argv[3]!;
const fallbackShare = Number(process.argv[4] ?? 1);
const timeoutMs = Number(process.argv[5] ?? 2_000);
const tiers = defineTiers({
  t: {
    policies: {
      fixed: { limit: 100, window: 3600 },
      sliding: { limit: 100, window: 3600, algorithm: 'sliding-window' },
      gcra: { limit: 100, window: 3600, algorithm: 'gcra' },
      general: { limit: 100_000, window: 3600 },
    },
  },
});
const kind = process.argv[6] ?? 'ioredis';
const client = kind === 'node-redis' ? createClient({ url }) : new Redis(url);
client.on('error', () => {});
if (!(client instanceof Redis)) await client.connect();
const limiter: Limiter = createLimiter({
  tiers,
  redis: client,
  prefix,
  timeoutMs,
  fallbackShare,
  localBlock: true,
  logger: { warn: () => {} },
});
const configs: Record<string, string[]> = {
  fixed: ['fixed'],
  sliding: ['sliding'],
  gcra: ['gcra'],
  'two-policy': ['general', 'fixed'],
};

process.on('message', async (m: { id: number; key: string; config: string; attempts: number } | 'exit') => {
  if (m === 'exit') {
    await limiter.close();
    if (client instanceof Redis) client.disconnect();
    else await client.close();
    process.exit(0);
  }
  const decisions = await Promise.all(
    Array.from({ length: m.attempts }, () => limiter.check({ key: m.key, policies: configs[m.config]! })),
  );
  process.send!({
    id: m.id,
    allowed: decisions.filter((d) => d.allowed).length,
    sources: [...new Set(decisions.map((d) => d.source))],
  });
});
await limiter.check({ key: 'warmup', policies: ['fixed'] });
process.send!('ready');
