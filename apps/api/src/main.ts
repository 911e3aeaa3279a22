import { createApp } from './app.js';

// The only place that reads the environment and listens.
const port = Number(process.env.PORT ?? 3000);
const app = createApp({ version: process.env.npm_package_version ?? '0.0.0' });
const server = app.listen(port, () => {
  console.warn(`api listening on http://127.0.0.1:${port} (health: /health)`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
