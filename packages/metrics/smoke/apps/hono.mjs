import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createMetrics } from '@org/metrics';
import { httpMetrics, metricsHandler } from '@org/metrics/hono';

const metrics = createMetrics();
const app = new Hono();
app.use(httpMetrics(metrics));
app.get('/metrics', metricsHandler(metrics));
app.get('/api/workflows/:id', (c) => c.json({ id: c.req.param('id') }));
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' });
