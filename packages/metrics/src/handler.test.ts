import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MetricsOptionsError } from './errors.js';
import { metricsHandler } from './handler.js';
import { createMetrics } from './metrics.js';

async function serve(handler: ReturnType<typeof metricsHandler>) {
  const server = createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('metricsHandler', () => {
  it('rejects weak or missing configuration at construction', () => {
    const metrics = createMetrics({ runtime: false });
    expect(() => metricsHandler(metrics, { bearerToken: 'short' })).toThrow(MetricsOptionsError);
    expect(() => metricsHandler({} as never)).toThrow(MetricsOptionsError);
  });

  it('answers 405 to other methods and HEAD without a body', async () => {
    const metrics = createMetrics({ runtime: false });
    const s = await serve(metricsHandler(metrics));
    const post = await fetch(s.url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(s.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    await s.close();
  });

  it('answers 500 with a generic body when a collector throws, without leaking its message', async () => {
    const metrics = createMetrics({ runtime: false });
    metrics.gauge({
      name: 'broken',
      help: 'Broken.',
      collect() {
        throw new Error('secret-connection-string');
      },
    });
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(...args);
    try {
      const s = await serve(metricsHandler(metrics));
      const res = await fetch(s.url);
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('secret');
      await s.close();
    } finally {
      console.error = original;
    }
    expect(logged.length).toBeGreaterThan(0);
    expect(JSON.stringify(logged.map(String))).not.toContain('secret');
    const seen: unknown[] = [];
    const s2 = await serve(metricsHandler(metrics, { onError: (e) => seen.push(e) }));
    await (await fetch(s2.url)).arrayBuffer();
    await s2.close();
    expect((seen[0] as Error).message).toBe('secret-connection-string');
  });
});
