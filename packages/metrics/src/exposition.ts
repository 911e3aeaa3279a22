import type { Registry } from 'prom-client';
import { isSeriesHistogram, type HistogramSeries } from './series-histogram.js';
import type { ExpositionFormat, MetricFamily, Sample } from './types.js';

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * Picks the format from an Accept header: OpenMetrics only when the scraper asks for it with a
 * non-zero q, everything else (missing header, `* / *`, text/plain) gets the Prometheus text format.
 */
export function negotiateFormat(accept: string | undefined | null): ExpositionFormat {
  if (!accept || !accept.includes('application/openmetrics-text')) return 'prometheus';
  let best: ExpositionFormat = 'prometheus';
  let bestQ = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';');
    const mediaType = type!.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number(v);
    }
    if (!(q > 0)) continue;
    const format: ExpositionFormat | undefined =
      mediaType === 'application/openmetrics-text'
        ? 'openmetrics'
        : mediaType === 'text/plain' || mediaType === '*/*'
          ? 'prometheus'
          : undefined;
    // Ties go to OpenMetrics: a scraper that lists it at all prefers it (Prometheus sends it first).
    if (format && (q > bestQ || (q === bestQ && format === 'openmetrics'))) {
      best = format;
      bestQ = q;
    }
  }
  return best;
}

export function contentTypeOf(format: ExpositionFormat): string {
  return format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE;
}

const escapeLabelValue = (v: string): string =>
  /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;

function escapeHelp(help: string, format: ExpositionFormat): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? escaped.replace(/"/g, '\\"') : escaped;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function formatLabelPairs(labels: Record<string, string | number> | undefined): string {
  let out = '';
  if (!labels) return out;
  for (const key in labels) {
    const v = labels[key];
    // `le` goes last, as on series rendered from a live histogram, so aggregated output reads the same.
    if (v === undefined || key === 'le') continue;
    out += `${out ? ',' : ''}${key}="${escapeLabelValue(String(v))}"`;
  }
  const le = labels['le'];
  if (le !== undefined)
    out += `${out ? ',' : ''}le="${typeof le === 'number' ? formatValue(le) : escapeLabelValue(le)}"`;
  return out;
}

function joinLabels(a: string, b: string): string {
  if (!a) return b ? `{${b}}` : '';
  return b ? `{${a},${b}}` : `{${a}}`;
}

/** Internal shape of a prom-client 15 Histogram, read directly to avoid building one object per bucket. */
interface HistogramInternals {
  type: 'histogram';
  name: string;
  help: string;
  upperBounds: number[];
  hashMap: Record<
    string,
    {
      labels: Record<string, string | number>;
      bucketValues: Record<string, number>;
      sum: number;
      count: number;
      bucketExemplars?: Record<string, Sample['exemplar']>;
    }
  >;
  collect?: () => unknown;
}

function isHistogramInternals(m: unknown): m is HistogramInternals {
  const h = m as Partial<HistogramInternals>;
  return h.type === 'histogram' && Array.isArray(h.upperBounds) && typeof h.hashMap === 'object' && h.hashMap !== null;
}

type InternalsSeries = HistogramInternals['hashMap'][string];

/**
 * Reads one kind of histogram series for {@link renderHistogram}: the own (not cumulative) count of
 * bucket `i` with upper bound `bound`, the value of the +Inf bucket given the finite buckets' total, and
 * the exemplar of bucket `i` (`bound` undefined: the +Inf bucket).
 */
interface HistogramReader<S> {
  bucket(series: S, i: number, bound: number): number;
  inf(series: S, finite: number): number;
  exemplar(series: S, i: number, bound: number | undefined): Sample['exemplar'] | undefined;
}

/** {@link SeriesHistogram}: counts per slot (the last one is +Inf), exemplars by slot. */
const SERIES_HISTOGRAM_READER: HistogramReader<HistogramSeries> = {
  bucket: (series, i) => series.counts[i]!,
  inf: (series, finite) => finite + series.counts[series.counts.length - 1]!,
  exemplar: (series, i) => series.exemplars?.[i],
};

/** prom-client 15: counts and exemplars keyed by upper bound (`-1` for +Inf), +Inf is the count. */
const PROM_CLIENT_HISTOGRAM_READER: HistogramReader<InternalsSeries> = {
  bucket: (series, _i, bound) => series.bucketValues[bound] ?? 0,
  inf: (series) => series.count,
  exemplar: (series, _i, bound) => series.bucketExemplars?.[bound ?? '-1'],
};

/**
 * The text of a histogram's series: cumulative `_bucket` lines (exemplars in OpenMetrics), `+Inf`,
 * `_sum` and `_count`, read directly instead of through one sample object per bucket.
 */
function renderHistogram<S extends { labels: Record<string, string | number>; sum: number; count: number }>(
  base: string,
  upperBounds: readonly number[],
  all: Iterable<S>,
  read: HistogramReader<S>,
  om: boolean,
  labelPairs: (labels: Record<string, string | number>) => string,
): string {
  const le = upperBounds.map(formatValue);
  let out = '';
  for (const series of all) {
    const pairs = labelPairs(series.labels);
    const prefix = pairs ? `${pairs},` : '';
    let acc = 0;
    for (let i = 0; i < le.length; i++) {
      const bound = upperBounds[i]!;
      acc += read.bucket(series, i, bound);
      out += `${base}_bucket{${prefix}le="${le[i]}"} ${acc}`;
      if (om) out += exemplarSuffix(read.exemplar(series, i, bound));
      out += '\n';
    }
    out += `${base}_bucket{${prefix}le="+Inf"} ${read.inf(series, acc)}`;
    if (om) out += exemplarSuffix(read.exemplar(series, le.length, undefined));
    out += `\n${base}_sum${joinLabels(pairs, '')} ${formatValue(series.sum)}\n${base}_count${joinLabels(pairs, '')} ${series.count}\n`;
  }
  return out;
}

/** Anything the serializer can read: a prom-client metric (via get()) or an already collected family. */
type Source = { kind: 'metric'; metric: unknown } | { kind: 'family'; family: MetricFamily };

/** Options of {@link Exposition}. */
export interface ExpositionOptions {
  /** Labels added to every sample that does not set them itself. @default {} */
  defaultLabels?: Record<string, string>;
  /** Called once per metric name that two registries define with different types; the later one is dropped. */
  onConflict?: (name: string) => void;
}

interface Entry {
  name: string;
  type: string;
  help: string;
  sources: Source[];
}

function exemplarSuffix(exemplar: Sample['exemplar']): string {
  if (!exemplar || !exemplar.labelSet || Object.keys(exemplar.labelSet).length === 0 || exemplar.value === null)
    return '';
  const ts = exemplar.timestamp === undefined ? '' : ` ${exemplar.timestamp}`;
  return ` # {${formatLabelPairs(exemplar.labelSet)}} ${formatValue(exemplar.value)}${ts}`;
}

/**
 * Collects every metric of several registries into one exposition: one `# HELP`/`# TYPE` per name,
 * samples of the same name from several registries concatenated, a type clash reported (not thrown)
 * so one bad package can never fail the whole scrape.
 */
export async function expose(
  registries: readonly Registry[],
  format: ExpositionFormat,
  options: ExpositionOptions = {},
  extraFamilies: readonly MetricFamily[] = [],
): Promise<string> {
  const entries = new Map<string, Entry>();
  const seen = new Set<unknown>();
  const add = (name: string, type: string, help: string, source: Source) => {
    const entry = entries.get(name);
    if (!entry) {
      entries.set(name, { name, type, help, sources: [source] });
    } else if (entry.type === type) {
      entry.sources.push(source);
    } else {
      options.onConflict?.(name);
    }
  };
  for (const registry of registries) {
    for (const metric of registry.getMetricsAsArray()) {
      if (seen.has(metric)) continue;
      seen.add(metric);
      const m = metric as unknown as { name: string; help: string; type: string };
      add(m.name, m.type, m.help, { kind: 'metric', metric });
    }
  }
  for (const family of extraFamilies) add(family.name, family.type, family.help, { kind: 'family', family });

  const defaults = formatLabelPairs(options.defaultLabels);
  const defaultKeys = Object.keys(options.defaultLabels ?? {});
  const withDefaults = (own: Record<string, string | number> | undefined, pairs: string): string => {
    if (!defaults) return pairs;
    if (!own) return pairs ? `${pairs},${defaults}` : defaults;
    let extra = '';
    for (const k of defaultKeys)
      if (!(k in own)) extra += `${extra ? ',' : ''}${k}="${escapeLabelValue(options.defaultLabels![k]!)}"`;
    return extra ? (pairs ? `${pairs},${extra}` : extra) : pairs;
  };

  const labelPairs = (labels: Record<string, string | number>): string =>
    withDefaults(labels, formatLabelPairs(labels));
  const om = format === 'openmetrics';
  const chunks: string[] = [];
  const families = await Promise.all(
    [...entries.values()].map(async (entry) => ({
      entry,
      parts: await Promise.all(entry.sources.map((s) => render(s, entry))),
    })),
  );

  async function render(source: Source, entry: Entry): Promise<string> {
    const counterSuffix = om && entry.type === 'counter';
    if (source.kind === 'metric' && isSeriesHistogram(source.metric)) {
      const h = source.metric;
      return renderHistogram(entry.name, h.upperBounds, h.all(), SERIES_HISTOGRAM_READER, om, labelPairs);
    }
    if (source.kind === 'metric' && isHistogramInternals(source.metric)) {
      const h = source.metric;
      if (h.collect) await h.collect();
      return renderHistogram(
        entry.name,
        h.upperBounds,
        Object.values(h.hashMap),
        PROM_CLIENT_HISTOGRAM_READER,
        om,
        labelPairs,
      );
    }
    let out = '';
    let family: MetricFamily;
    if (source.kind === 'family') family = source.family;
    else family = (await (source.metric as { get(): Promise<MetricFamily> }).get()) as MetricFamily;
    for (const sample of family.values) {
      let name = sample.metricName ?? entry.name;
      if (counterSuffix && !name.endsWith('_total')) name = `${name}_total`;
      const pairs = labelPairs(sample.labels);
      out += `${name}${joinLabels(pairs, '')} ${formatValue(sample.value)}`;
      if (om && (entry.type === 'counter' || name.endsWith('_bucket'))) out += exemplarSuffix(sample.exemplar);
      out += '\n';
    }
    return out;
  }

  for (const { entry, parts } of families) {
    // OpenMetrics names a counter family without `_total`; the samples keep it.
    const familyName =
      om && entry.type === 'counter' && entry.name.endsWith('_total') ? entry.name.slice(0, -6) : entry.name;
    chunks.push(
      `# HELP ${familyName} ${escapeHelp(entry.help, format)}\n# TYPE ${familyName} ${entry.type}\n${parts.join('')}`,
    );
  }
  return om ? `${chunks.join('')}# EOF\n` : chunks.join('\n');
}
