import express from 'express';
import { createMetrics, metricsHandler } from '@org/metrics';
import { httpMetrics } from '@org/metrics/express';

const metrics = createMetrics();
const app = express();
app.use(httpMetrics(metrics));
app.get('/metrics', metricsHandler(metrics));
app.get('/api/workflows/:id', (req, res) => {
  res.json({ id: req.params.id });
});
app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
