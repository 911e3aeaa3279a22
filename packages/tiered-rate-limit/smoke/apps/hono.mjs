import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { defaultTiers } from '@org/tiered-rate-limit';
import { tieredRateLimit } from '@org/tiered-rate-limit/hono';

const app = new Hono();
// Anonymous requests are keyed by the socket address; behind a proxy, pass clientIp.
app.use(tieredRateLimit({ tiers: defaultTiers(), resolveTier: (c) => c.req.header('x-tier') }));
app.get('/api/workflows', (c) => c.json({ success: true, data: [] }));
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' });
