import type { Gauge } from 'prom-client';
import { MetricsOptionsError } from './errors.js';
import type { DependencyHealth, DependencyHealthOptions, Metrics } from './types.js';

const NAME = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * `dependency_up{dependency}` (1 up, 0 down), what the Redis/PostgreSQL-down alerts read. Checks run
 * concurrently at scrape time with a deadline, so a hung dependency slows a scrape by at most `timeoutMs`.
 */
export function createDependencyHealth(metrics: Metrics, options: DependencyHealthOptions = {}): DependencyHealth {
  const checks = options.checks ?? {};
  const timeoutMs = options.timeoutMs ?? 500;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new MetricsOptionsError('options.timeoutMs must be a positive number');
  for (const [name, check] of Object.entries(checks)) {
    if (!NAME.test(name))
      throw new MetricsOptionsError(`options.checks: "${name}" must be lower case letters, digits and "_"`);
    if (typeof check !== 'function')
      throw new MetricsOptionsError(`options.checks.${name} must be a function returning a promise`);
  }
  const run = async (check: () => Promise<unknown>): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs))),
      ]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  const gauge: Gauge<'dependency'> = metrics.gauge({
    name: 'dependency_up',
    help: 'Whether a dependency answered its health check at scrape time (1 up, 0 down).',
    labelNames: ['dependency'],
    aggregator: 'min',
    async collect() {
      await Promise.all(
        Object.entries(checks).map(async ([dependency, check]) => this.set({ dependency }, (await run(check)) ? 1 : 0)),
      );
    },
  });
  return {
    set(dependency, up) {
      if (!NAME.test(dependency))
        throw new MetricsOptionsError(`dependency "${dependency}" must be lower case letters, digits and "_"`);
      gauge.set({ dependency }, up ? 1 : 0);
    },
  };
}
