// @org/metrics in a Hono 4 app on @hono/node-server. Run: `pnpm start`, then `curl http://127.0.0.1:3000/metrics`.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createMetrics } from '@org/metrics';
import { httpMetrics, metricsHandler } from '@org/metrics/hono';

const metrics = createMetrics({ defaultLabels: { service: 'example' } }); // its own Registry, never the global one
const greetings = metrics.counter({
  name: 'greetings_total',
  help: 'Greetings sent, by language.',
  labelNames: ['lang'],
});

const app = new Hono();
app.use(httpMetrics(metrics)); // before the routes: every request is measured under its route template
app.get('/metrics', metricsHandler(metrics, { bearerToken: process.env.METRICS_TOKEN }));

app.get('/hello/:name', (c) => {
  const lang = c.req.query('lang') === 'fr' ? 'fr' : 'en'; // a bounded label value, never raw input
  greetings.inc({ lang });
  return c.json({ greeting: `${lang === 'fr' ? 'Bonjour' : 'Hello'} ${c.req.param('name')}` });
});

const port = Number(process.env.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST ?? '127.0.0.1' }, () =>
  console.warn(`listening on http://127.0.0.1:${port}`),
);

process.on('SIGTERM', () => {
  server.close(() => {
    metrics.close();
    process.exit(0);
  });
});
