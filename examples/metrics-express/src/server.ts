// @org/metrics in an Express 5 app. Run: `pnpm start`, then `curl http://127.0.0.1:3000/metrics`.
import express from 'express';
import { createMetrics, metricsHandler } from '@org/metrics';
import { httpMetrics } from '@org/metrics/express';

const metrics = createMetrics({ defaultLabels: { service: 'example' } }); // its own Registry, never the global one
const greetings = metrics.counter({
  name: 'greetings_total',
  help: 'Greetings sent, by language.',
  labelNames: ['lang'],
});

const app = express();
app.use(httpMetrics(metrics)); // before the routes: every request is measured under its route template
app.get('/metrics', metricsHandler(metrics, { bearerToken: process.env.METRICS_TOKEN }));

app.get('/hello/:name', (req, res) => {
  const lang = req.query.lang === 'fr' ? 'fr' : 'en'; // a bounded label value, never raw input
  greetings.inc({ lang });
  res.json({ greeting: `${lang === 'fr' ? 'Bonjour' : 'Hello'} ${req.params.name}` });
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, process.env.HOST ?? '127.0.0.1', () =>
  console.warn(`listening on http://127.0.0.1:${port}`),
);

process.on('SIGTERM', () => {
  server.close(() => {
    metrics.close();
    process.exit(0);
  });
});
