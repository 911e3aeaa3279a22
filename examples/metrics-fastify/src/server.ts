// @org/metrics in a Fastify 5 app. Run: `pnpm start`, then `curl http://127.0.0.1:3000/metrics`.
import Fastify from 'fastify';
import { createMetrics } from '@org/metrics';
import { httpMetrics, metricsHandler } from '@org/metrics/fastify';

const metrics = createMetrics({ defaultLabels: { service: 'example' } }); // its own Registry, never the global one
const greetings = metrics.counter({
  name: 'greetings_total',
  help: 'Greetings sent, by language.',
  labelNames: ['lang'],
});

const app = Fastify();
await app.register(httpMetrics(metrics)); // before the routes: every request is measured under its route template
app.get('/metrics', metricsHandler(metrics, { bearerToken: process.env.METRICS_TOKEN }));

app.get<{ Params: { name: string }; Querystring: { lang?: string } }>('/hello/:name', async (request) => {
  const lang = request.query.lang === 'fr' ? 'fr' : 'en'; // a bounded label value, never raw input
  greetings.inc({ lang });
  return { greeting: `${lang === 'fr' ? 'Bonjour' : 'Hello'} ${request.params.name}` };
});

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
console.warn(`listening on http://127.0.0.1:${port}`);

process.on('SIGTERM', () => {
  void app.close().then(() => {
    metrics.close();
    process.exit(0);
  });
});
