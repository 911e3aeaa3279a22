import express from 'express';
import { defaultTiers, tieredRateLimit } from '@org/tiered-rate-limit';

const app = express();
// Before authentication, so anonymous floods get 429 keyed by IP.
app.use(tieredRateLimit({ tiers: defaultTiers(), resolveTier: (req) => req.get('x-tier') }));
app.get('/api/workflows', (_req, res) => {
  res.json({ success: true, data: [] });
});
app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
