import Fastify from 'fastify';
import { createMetrics } from '@org/metrics';
import { httpMetrics, metricsHandler } from '@org/metrics/fastify';

const metrics = createMetrics();
const app = Fastify();
await app.register(httpMetrics(metrics));
app.get('/metrics', metricsHandler(metrics));
app.get('/api/workflows/:id', async (request) => ({ id: request.params.id }));
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
