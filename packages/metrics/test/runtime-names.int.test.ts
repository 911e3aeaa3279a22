import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, MetricsOptionsError } from '../src/index.js';

// runtimeNames: 'prom-client' against the real prom-client's collectDefaultMetrics, in the same process.

interface Family {
  name: string;
  type: string;
  labels: string[];
}

async function families(registry: Registry): Promise<Family[]> {
  const json = (await registry.getMetricsAsJSON()) as unknown as {
    name: string;
    type: string;
    values: { labels: Record<string, unknown> }[];
  }[];
  return json.map((m) => ({
    name: m.name,
    type: String(m.type),
    labels: [...new Set(m.values.flatMap((v) => Object.keys(v.labels)))].filter((l) => l !== 'le').sort(),
  }));
}

async function promClientDefaults(): Promise<Family[]> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Start something so handle and request series carry their `type` label.
  const timer = setInterval(() => undefined, 1_000);
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return await families(registry);
  } finally {
    clearInterval(timer);
    registry.clear();
  }
}

describe("runtimeNames: 'prom-client'", () => {
  it("exposes every name prom-client's default metrics have, with the same type (and label names where prom-client has values)", async () => {
    const expected = await promClientDefaults();
    const metrics = createMetrics({ runtimeNames: 'prom-client' });
    const timer = setInterval(() => undefined, 1_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const ours = new Map((await families(metrics.registry)).map((f) => [f.name, f]));
      expect(expected.length).toBeGreaterThan(25);
      for (const want of expected) {
        const have = ours.get(want.name);
        expect(have, want.name).toBeDefined();
        expect(have!.type, want.name).toBe(want.type);
        if (want.labels.length > 0) expect(have!.labels, want.name).toEqual(want.labels);
      }
      // The exposition carries them too (the scrape a community dashboard reads).
      const { body } = await metrics.scrape();
      for (const name of [
        'nodejs_active_handles_total',
        'nodejs_eventloop_lag_mean_seconds',
        'nodejs_heap_space_size_available_bytes',
      ])
        expect(body).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
    } finally {
      clearInterval(timer);
      metrics.close();
    }
  });

  it("the default ('promlint') lacks those gauges named *_total: the control that the comparison can fail", async () => {
    const expected = await promClientDefaults();
    const metrics = createMetrics();
    try {
      const ours = new Set((await families(metrics.registry)).map((f) => f.name));
      const missing = expected.map((f) => f.name).filter((n) => !ours.has(n));
      expect(missing).toEqual(
        expect.arrayContaining([
          'nodejs_active_handles_total',
          'nodejs_active_requests_total',
          'nodejs_active_resources_total',
        ]),
      );
    } finally {
      metrics.close();
    }
  });

  it('refuses other values at construction', () => {
    expect(() => createMetrics({ runtimeNames: 'prometheus' as never })).toThrow(MetricsOptionsError);
  });
});
