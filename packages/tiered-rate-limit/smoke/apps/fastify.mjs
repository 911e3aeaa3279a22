import Fastify from 'fastify';
import { defaultTiers } from '@org/tiered-rate-limit';
import { tieredRateLimit } from '@org/tiered-rate-limit/fastify';

const app = Fastify();
// An onRequest hook on every route of this instance, 404s included.
await app.register(tieredRateLimit({ tiers: defaultTiers(), resolveTier: (request) => request.headers['x-tier'] }));
app.get('/api/workflows', async () => ({ success: true, data: [] }));
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
