import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Registry } from 'prom-client';

/** The `rate_limit_exceeded_total` counter, created only when a Registry is passed (prom-client is an optional peer). */
export function exceededCounter(registry: Registry | undefined): Counter<'tier' | 'policy'> | undefined {
  if (!registry) return undefined;
  const name = 'rate_limit_exceeded_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'tier' | 'policy'>;
  // Loaded lazily and synchronously so that users without prom-client never need it installed.
  const promClient = createRequire(import.meta.url)('prom-client') as typeof PromClient;
  return new promClient.Counter({
    name,
    help: 'Requests rejected by a rate-limit policy (429), by tier and violated policy.',
    labelNames: ['tier', 'policy'] as const,
    registers: [registry],
  });
}
