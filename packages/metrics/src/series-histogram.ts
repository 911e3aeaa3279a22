import type { MetricFamily, Sample } from './types.js';

/** Marks a {@link SeriesHistogram} across copies of this package. */
export const SERIES_HISTOGRAM = Symbol.for('@org/metrics.series-histogram');

type Exemplar = NonNullable<Sample['exemplar']>;

/** One label set of a {@link SeriesHistogram}: keep the handle and observe without any label hashing. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Non-cumulative bucket counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  exemplars?: (Exemplar | undefined)[];
}

/**
 * A histogram that lives in a prom-client Registry (it has the `name/help/type/get/reset` prom-client
 * reads) but is observed through series handles: the hot path is a bucket search and two additions,
 * with no label validation or hashing per observation. Used for `http_request_duration_seconds`.
 */
export class SeriesHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly [SERIES_HISTOGRAM] = true;
  readonly upperBounds: number[];
  readonly labelNames: string[];
  readonly enableExemplars: boolean;
  private readonly map = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
    exemplars = false,
  ) {
    this.labelNames = [...labelNames];
    this.upperBounds = [...buckets];
    this.enableExemplars = exemplars;
  }

  /** The series for a label set (created on first use; callers bound the label values). */
  series(labels: Readonly<Record<string, string>>, key?: string): HistogramSeries {
    const k = key ?? this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let s = this.map.get(k);
    if (!s) {
      s = { labels, counts: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
      if (this.enableExemplars) s.exemplars = [];
      this.map.set(k, s);
    }
    return s;
  }

  /** Records one value into a series; `exemplarLabels` are kept per bucket (OpenMetrics only). */
  record(series: HistogramSeries, value: number, exemplarLabels?: Record<string, string>): void {
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    series.counts[i]! += 1;
    series.sum += value;
    series.count += 1;
    if (exemplarLabels && series.exemplars)
      series.exemplars[i] = { labelSet: exemplarLabels, value, timestamp: Date.now() / 1000 };
  }

  /** prom-client style `observe(labels, value)` for callers that hold no series handle. */
  observe(labels: Record<string, string | number> | number, value?: number): void {
    if (typeof labels === 'number') {
      this.record(this.series({}), labels);
      return;
    }
    const own: Record<string, string> = {};
    for (const n of this.labelNames) own[n] = String(labels[n] ?? '');
    this.record(this.series(own), value ?? 0);
  }

  /** Every series in a stable order (creation order). */
  all(): IterableIterator<HistogramSeries> {
    return this.map.values();
  }

  reset(): void {
    this.map.clear();
  }

  /** The prom-client JSON shape (what `getMetricsAsJSON()`, `registry.metrics()` and cluster workers read). */
  async get(): Promise<MetricFamily> {
    const values: Sample[] = [];
    for (const s of this.map.values()) {
      let acc = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        acc += s.counts[i]!;
        values.push({
          labels: { ...s.labels, le: this.upperBounds[i]! },
          value: acc,
          metricName: `${this.name}_bucket`,
          exemplar: s.exemplars?.[i] ?? null,
        });
      }
      values.push({
        labels: { ...s.labels, le: '+Inf' },
        value: s.count,
        metricName: `${this.name}_bucket`,
        exemplar: s.exemplars?.[this.upperBounds.length] ?? null,
      });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export function isSeriesHistogram(m: unknown): m is SeriesHistogram {
  return typeof m === 'object' && m !== null && (m as { [SERIES_HISTOGRAM]?: boolean })[SERIES_HISTOGRAM] === true;
}
