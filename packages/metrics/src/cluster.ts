import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { MetricsOptionsError } from './errors.js';
import { contentTypeOf, expose, negotiateFormat } from './exposition.js';
import type { ClusterAggregator, ClusterAggregatorOptions, MetricFamily, Metrics, Sample } from './types.js';

const REQUEST = '@org/metrics:collect';
const REPLY = '@org/metrics:families';

interface CollectRequest {
  type: typeof REQUEST;
  id: string;
}
interface CollectReply {
  type: typeof REPLY;
  id: string;
  families?: MetricFamily[];
  error?: string;
}

/**
 * In a cluster worker: answers the primary's collect requests with this worker's metrics. Returns
 * the function that stops answering. A worker that never calls this simply times out on the primary.
 */
export function serveClusterMetrics(metrics: Metrics): () => void {
  if (!metrics || typeof metrics.collect !== 'function')
    throw new MetricsOptionsError('serveClusterMetrics needs the handle createMetrics() returned');
  if (typeof process.send !== 'function')
    throw new MetricsOptionsError('serveClusterMetrics must run in a cluster worker (process.send is missing)');
  const onMessage = (message: unknown) => {
    const m = message as Partial<CollectRequest> | null;
    if (!m || m.type !== REQUEST || typeof m.id !== 'string') return;
    const id = m.id;
    metrics.collect().then(
      (families) => process.send?.({ type: REPLY, id, families } satisfies CollectReply),
      (error: unknown) =>
        process.send?.({
          type: REPLY,
          id,
          error: error instanceof Error ? error.name : 'Error',
        } satisfies CollectReply),
    );
  };
  process.on('message', onMessage);
  return () => {
    process.removeListener('message', onMessage);
  };
}

type Worker = NonNullable<typeof cluster.workers>[string];

function askWorker(
  worker: Worker,
  timeoutMs: number,
): Promise<MetricFamily[] | { failure: 'timeout' | 'exited' | 'send_failed' | 'worker_error' }> {
  return new Promise((resolve) => {
    if (!worker || !worker.isConnected() || worker.isDead()) {
      resolve({ failure: 'exited' });
      return;
    }
    const id = randomUUID();
    let settled = false;
    const finish = (value: MetricFamily[] | { failure: 'timeout' | 'exited' | 'send_failed' | 'worker_error' }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.removeListener('message', onMessage);
      worker.removeListener('exit', onExit);
      resolve(value);
    };
    const onMessage = (message: unknown) => {
      const m = message as Partial<CollectReply> | null;
      if (!m || m.type !== REPLY || m.id !== id) return;
      finish(Array.isArray(m.families) ? m.families : { failure: 'worker_error' });
    };
    const onExit = () => finish({ failure: 'exited' });
    const timer = setTimeout(() => finish({ failure: 'timeout' }), timeoutMs);
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    try {
      worker.send({ type: REQUEST, id } satisfies CollectRequest, (error: Error | null) => {
        if (error) finish({ failure: 'send_failed' });
      });
    } catch {
      finish({ failure: 'send_failed' });
    }
  });
}

function labelKey(labels: Record<string, string | number> | undefined): string {
  if (!labels) return '';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0001${labels[k]}`)
    .join('\u0002');
}

/**
 * Sums counters and histograms sample by sample (exact: same names and labels add up); gauges use the
 * metric's `aggregator` (sum by default, `max` for event-loop lag, `omit` for per-process constants).
 */
export function aggregateFamilies(perProcess: readonly MetricFamily[][]): MetricFamily[] {
  const byName = new Map<
    string,
    { family: MetricFamily; samples: Map<string, { sample: Sample; values: number[] }> }
  >();
  for (const families of perProcess) {
    for (const family of families) {
      let entry = byName.get(family.name);
      if (!entry) {
        entry = {
          family: {
            name: family.name,
            help: family.help,
            type: family.type,
            aggregator: family.aggregator,
            values: [],
          },
          samples: new Map(),
        };
        byName.set(family.name, entry);
      } else if (entry.family.type !== family.type) {
        continue;
      }
      for (const sample of family.values) {
        const key = `${sample.metricName ?? ''}\u0000${labelKey(sample.labels)}`;
        const slot = entry.samples.get(key);
        if (slot) slot.values.push(sample.value);
        else
          entry.samples.set(key, {
            sample: {
              value: 0,
              labels: sample.labels,
              ...(sample.metricName ? { metricName: sample.metricName } : {}),
            },
            values: [sample.value],
          });
      }
    }
  }
  const out: MetricFamily[] = [];
  for (const { family, samples } of byName.values()) {
    const how = family.type === 'counter' || family.type === 'histogram' ? 'sum' : (family.aggregator ?? 'sum');
    if (how === 'omit' && perProcess.length > 1) continue;
    for (const { sample, values } of samples.values()) {
      let value: number;
      switch (how) {
        case 'first':
        case 'omit':
          value = values[0]!;
          break;
        case 'min':
          value = Math.min(...values);
          break;
        case 'max':
          value = Math.max(...values);
          break;
        case 'average':
          value = values.reduce((a, b) => a + b, 0) / values.length;
          break;
        default:
          value = values.reduce((a, b) => a + b, 0);
      }
      family.values.push({ ...sample, value });
    }
    out.push(family);
  }
  return out;
}

/**
 * On the cluster primary: one scrape asks every live worker for its metrics (in parallel, each with a
 * deadline), sums them with the primary's own, and renders one exposition. A worker that is silent,
 * dead or broken is left out and counted in `metrics_cluster_scrape_errors_total{reason}`; the scrape
 * itself still succeeds, and a worker that exits between scrapes counts as `reason="exited"`.
 * `metrics_cluster_workers{state}` says how complete the data is.
 */
export function createClusterAggregator(metrics: Metrics, options: ClusterAggregatorOptions = {}): ClusterAggregator {
  if (!metrics || typeof metrics.collect !== 'function')
    throw new MetricsOptionsError('createClusterAggregator needs the handle createMetrics() returned');
  const timeoutMs = options.timeoutMs ?? 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new MetricsOptionsError('options.timeoutMs must be a positive number');
  const errors = metrics.counter({
    name: 'metrics_cluster_scrape_errors_total',
    help: 'Workers left out of a cluster scrape, by reason (timeout, exited, send_failed, worker_error).',
    labelNames: ['reason'],
  });
  const workers = metrics.gauge({
    name: 'metrics_cluster_workers',
    help: 'Workers asked in the latest cluster scrape, by whether they answered.',
    labelNames: ['state'],
    aggregator: 'first',
  });
  for (const reason of ['timeout', 'exited', 'send_failed', 'worker_error']) errors.inc({ reason }, 0);
  // A worker that dies between scrapes is gone from cluster.workers; its loss still has to show.
  const onExit = () => errors.inc({ reason: 'exited' });
  cluster.on('exit', onExit);

  async function collect() {
    const list = Object.values(cluster.workers ?? {}).filter((w): w is NonNullable<Worker> => w !== undefined);
    const answers = await Promise.all(list.map((w) => askWorker(w, timeoutMs)));
    const ok: MetricFamily[][] = [];
    let failed = 0;
    for (const answer of answers) {
      if (Array.isArray(answer)) ok.push(answer);
      else {
        failed++;
        errors.inc({ reason: answer.failure });
      }
    }
    workers.set({ state: 'responded' }, ok.length);
    workers.set({ state: 'failed' }, failed);
    const own = await metrics.collect();
    return { families: aggregateFamilies([own, ...ok]), responded: ok.length, failed };
  }

  return {
    collect,
    close() {
      cluster.removeListener('exit', onExit);
    },
    async scrape(accept) {
      const format = negotiateFormat(accept);
      const { families } = await collect();
      return {
        contentType: contentTypeOf(format),
        body: await expose([], format, { defaultLabels: metrics.defaultLabels }, families),
        format,
      };
    },
  };
}
