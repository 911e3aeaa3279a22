// Generates the two Grafana dashboards from one set of panel definitions, so the shared rows stay identical panel for
// panel: @org/metrics' generic dashboard, packages/metrics/dashboards/http.json (rows Traffic and Runtime: any service
// instrumented with @org/metrics; the package ships and exports it), and the reference API's
// ops/grafana/dashboards/api-overview.json (the same rows plus the API's dependencies, business and queue rows). The
// JSON files are the artefacts users import; this generator only keeps the panels consistent (selectors, datasource,
// grid). Run: pnpm --filter @org/ops generate:dashboards. packages/metrics/test/dashboard.test.ts fails when a
// committed file differs from what this generator writes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Target = [expr: string, legendFormat: string];
type Json = Record<string, unknown>;

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: Target[];
  type?: 'timeseries' | 'heatmap' | 'stat';
  w?: number;
  h?: number;
  min?: number;
  max?: number;
  options?: Json;
  extra?: Json;
}

interface Panel extends Json {
  type: string;
  targets?: Json[];
}

const S = 'job=~"$job", instance=~"$instance"';
const sel = (extra = '') => `{${S}${extra ? `, ${extra}` : ''}}`;
const rate = (metric: string, extra = '') => `rate(${metric}${sel(extra)}[$__rate_interval])`;
const ds = { type: 'prometheus', uid: '${datasource}' };
const q = (q: number, agg: string, metric: string) => `histogram_quantile(${q}, sum by (${agg}) (${rate(metric)}))`;

let id = 0;
let y = 0;
let panels: Panel[] = [];
function row(title: string) {
  panels.push({ type: 'row', id: ++id, title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] });
}
let x = 0;
function panel({
  title,
  description,
  unit,
  targets,
  type = 'timeseries',
  w = 8,
  h = 8,
  min,
  max,
  options,
  extra = {},
}: PanelSpec) {
  if (x + w > 24) {
    x = 0;
    y += h;
  }
  const defaults: Json = { unit, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  if (type === 'timeseries')
    defaults.custom = { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' };
  panels.push({
    type,
    id: ++id,
    title,
    description,
    datasource: ds,
    gridPos: { h, w, x, y },
    fieldConfig: { defaults, overrides: [] },
    options:
      options ??
      (type === 'timeseries'
        ? {
            legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
            tooltip: { mode: 'multi', sort: 'desc' },
          }
        : {}),
    targets: targets.map(([expr, legendFormat], i) => ({
      datasource: ds,
      refId: String.fromCharCode(65 + i),
      expr,
      legendFormat,
      range: true,
      instant: false,
      editorMode: 'code',
    })),
    ...extra,
  });
  x += w;
  if (x >= 24) {
    x = 0;
    y += h;
  }
}
function endRow() {
  if (x !== 0) {
    x = 0;
    y += 8;
  }
}

function trafficRow() {
  row('Traffic');
  panel({
    title: 'Request rate by route',
    description:
      'Completed HTTP requests per second, by route template (http_requests_total). /metrics and health probes are not counted.',
    unit: 'reqps',
    targets: [[`sum by (route) (${rate('http_requests_total')})`, '{{route}}']],
  });
  panel({
    title: 'Error ratio',
    description:
      'Share of requests answered 5xx (server errors) and 4xx (client errors). Reads 0, not "no data", while there are no errors.',
    unit: 'percentunit',
    min: 0,
    targets: [
      [
        `(sum(${rate('http_requests_total', 'status_code=~"5.."')}) or vector(0)) / clamp_min(sum(${rate('http_requests_total')}) or vector(0), 1e-9)`,
        '5xx',
      ],
      [
        `(sum(${rate('http_requests_total', 'status_code=~"4.."')}) or vector(0)) / clamp_min(sum(${rate('http_requests_total')}) or vector(0), 1e-9)`,
        '4xx',
      ],
    ],
  });
  panel({
    title: 'Latency p50 / p95 / p99',
    description: 'Request duration quantiles over all routes, estimated from http_request_duration_seconds buckets.',
    unit: 's',
    targets: [0.5, 0.95, 0.99].map((p) => [
      q(p, 'le', 'http_request_duration_seconds_bucket'),
      `p${Math.round(p * 100)}`,
    ]),
  });
  panel({
    title: 'p99 latency by route',
    description: '99th percentile of request duration per route template; find the slow endpoint here.',
    unit: 's',
    targets: [[q(0.99, 'le, route', 'http_request_duration_seconds_bucket'), '{{route}}']],
  });
  panel({
    title: 'Responses by status code',
    description:
      'Completed requests per second by HTTP status code (499 = client went away before the response was written).',
    unit: 'reqps',
    targets: [[`sum by (status_code) (${rate('http_requests_total')})`, '{{status_code}}']],
  });
  panel({
    title: 'Requests in flight',
    description: 'Requests being served right now (http_requests_in_flight), per instance.',
    unit: 'short',
    min: 0,
    targets: [[`sum by (instance) (http_requests_in_flight${sel()})`, '{{instance}}']],
  });
  panel({
    title: 'Route label overflow',
    description:
      'Requests counted under route="__overflow__" because the distinct-route cap was reached. Non-zero means the cap is too low or routes are generated dynamically.',
    unit: 'reqps',
    targets: [[`sum(${rate('http_route_overflow_total')}) or vector(0)`, 'overflow']],
  });
  endRow();
}

function runtimeRow() {
  row('Runtime');
  panel({
    title: 'Event-loop lag',
    description:
      'Event-loop delay over the last scrape interval: mean and p99 (nodejs_eventloop_lag_*). Sustained values above ~50 ms mean CPU-bound work blocks requests.',
    unit: 's',
    targets: [
      [`max by (instance) (nodejs_eventloop_lag_p99_seconds${sel()})`, 'p99 {{instance}}'],
      [`max by (instance) (nodejs_eventloop_lag_seconds${sel()})`, 'mean {{instance}}'],
    ],
  });
  panel({
    title: 'Heap',
    description: 'V8 heap used and allocated, per instance (nodejs_heap_size_*_bytes).',
    unit: 'bytes',
    targets: [
      [`sum by (instance) (nodejs_heap_size_used_bytes${sel()})`, 'used {{instance}}'],
      [`sum by (instance) (nodejs_heap_size_total_bytes${sel()})`, 'total {{instance}}'],
    ],
  });
  panel({
    title: 'Resident memory (RSS)',
    description: 'Resident set size of the process, per instance (process_resident_memory_bytes).',
    unit: 'bytes',
    targets: [[`sum by (instance) (process_resident_memory_bytes${sel()})`, '{{instance}}']],
  });
  panel({
    title: 'Time in GC',
    description: 'Share of wall time spent in garbage collection pauses, by GC kind (nodejs_gc_duration_seconds).',
    unit: 'percentunit',
    min: 0,
    targets: [[`sum by (kind) (${rate('nodejs_gc_duration_seconds_sum')})`, '{{kind}}']],
  });
  panel({
    title: 'GC pauses per second',
    description: 'Garbage collections per second, by kind.',
    unit: 'ops',
    targets: [[`sum by (kind) (${rate('nodejs_gc_duration_seconds_count')})`, '{{kind}}']],
  });
  panel({
    title: 'CPU',
    description: 'CPU time used per second of wall time (1 = one full core), per instance (process_cpu_seconds_total).',
    unit: 'percentunit',
    targets: [[`sum by (instance) (${rate('process_cpu_seconds_total')})`, '{{instance}}']],
  });
  endRow();
}

function apiRows() {
  row('Dependencies');
  panel({
    title: 'Dependency up',
    description:
      'Whether PostgreSQL and Redis answered their health check at scrape time (1 up, 0 down), worst instance (dependency_up).',
    unit: 'bool',
    min: 0,
    max: 1,
    targets: [[`min by (dependency) (dependency_up${sel()})`, '{{dependency}}']],
  });
  panel({
    title: 'DB query latency p95',
    description: '95th percentile of database query duration by SQL operation (database_query_duration_seconds).',
    unit: 's',
    targets: [[q(0.95, 'le, operation', 'database_query_duration_seconds_bucket'), '{{operation}}']],
  });
  panel({
    title: 'DB connections',
    description: 'Pool connections checked out (active), open and idle, and callers waiting for one.',
    unit: 'short',
    min: 0,
    targets: [
      [`sum by (pool) (database_connections_active${sel()})`, 'active {{pool}}'],
      [`sum by (pool) (database_connections_idle${sel()})`, 'idle {{pool}}'],
      [`sum by (pool) (database_connections_waiting${sel()})`, 'waiting {{pool}}'],
    ],
  });
  panel({
    title: 'DB query errors',
    description: 'Failed queries per second by SQLSTATE code (database_query_errors_total); 0 when none fail.',
    unit: 'ops',
    targets: [[`sum by (code) (${rate('database_query_errors_total')}) or vector(0)`, '{{code}}']],
  });
  panel({
    title: 'Cache hit ratio',
    description: 'Share of cache lookups answered from the cache, all tiers (cache_hits_total / (hits + misses)).',
    unit: 'percentunit',
    min: 0,
    max: 1,
    targets: [
      [
        `(sum(${rate('cache_hits_total')}) or vector(0)) / clamp_min((sum(${rate('cache_hits_total')}) or vector(0)) + (sum(${rate('cache_misses_total')}) or vector(0)), 1e-9)`,
        'hit ratio',
      ],
    ],
  });
  panel({
    title: 'Cache latency p95',
    description: '95th percentile of cache operation duration by tier (cache_operation_duration_seconds).',
    unit: 's',
    targets: [[q(0.95, 'le, tier', 'cache_operation_duration_seconds_bucket'), '{{tier}}']],
  });
  panel({
    title: 'GHL API latency p95',
    description: '95th percentile of GoHighLevel API call duration by endpoint template (ghl_api_duration_seconds).',
    unit: 's',
    targets: [[q(0.95, 'le, endpoint', 'ghl_api_duration_seconds_bucket'), '{{endpoint}}']],
  });
  panel({
    title: 'GHL API errors',
    description:
      'Failed GoHighLevel API calls per second by error class (timeout, network, rate_limited, client_error, server_error); 0 when none fail.',
    unit: 'ops',
    targets: [[`sum by (error_type) (${rate('ghl_api_errors_total')}) or vector(0)`, '{{error_type}}']],
  });
  panel({
    title: 'GHL API calls',
    description: 'GoHighLevel API calls per second by status code (0 = no response).',
    unit: 'reqps',
    targets: [[`sum by (status_code) (${rate('ghl_api_requests_total')})`, '{{status_code}}']],
  });
  endRow();

  row('Business');
  panel({
    title: 'Analyses by tier and status',
    description: 'Workflow analyses per second by subscription tier and outcome (workflow_analysis_total).',
    unit: 'ops',
    targets: [[`sum by (tier, status) (${rate('workflow_analysis_total')})`, '{{tier}} {{status}}']],
  });
  panel({
    title: 'Analysis duration p95',
    description: '95th percentile of workflow analysis duration by tier (workflow_analysis_duration_seconds).',
    unit: 's',
    targets: [[q(0.95, 'le, tier', 'workflow_analysis_duration_seconds_bucket'), '{{tier}}']],
  });
  panel({
    title: 'Health score distribution',
    description:
      'How many analysed workflows fell into each health-score band (0-100) per interval (workflow_health_score buckets).',
    unit: 'short',
    type: 'heatmap',
    targets: [[`sum by (le) (increase(workflow_health_score_bucket${sel()}[$__rate_interval]))`, '{{le}}']],
    options: { calculate: false, yAxis: { unit: 'short' }, cellGap: 1, color: { mode: 'scheme', scheme: 'Oranges' } },
    extra: {},
  });
  panel({
    title: 'Issues by severity',
    description: 'Issues found by analyses per second, by severity (workflow_issues_found_total).',
    unit: 'ops',
    targets: [[`sum by (severity) (${rate('workflow_issues_found_total')})`, '{{severity}}']],
  });
  panel({
    title: 'Active users by tier',
    description:
      'Users active in the last 15 minutes by tier (active_users); max over instances because every instance reports the same shared count.',
    unit: 'short',
    min: 0,
    targets: [[`max by (tier) (active_users${sel()})`, '{{tier}}']],
  });
  panel({
    title: 'Subscription events',
    description:
      'Subscription lifecycle events per second by event (subscription_events_total); 0 when there are none.',
    unit: 'ops',
    targets: [[`sum by (event) (${rate('subscription_events_total')}) or vector(0)`, '{{event}}']],
  });
  panel({
    title: 'Rate-limit rejections',
    description:
      'Requests rejected by the tiered rate limiter per second, by tier (rate_limit_exceeded_total); 0 when none.',
    unit: 'reqps',
    targets: [[`sum by (tier) (${rate('rate_limit_exceeded_total')}) or vector(0)`, '{{tier}}']],
  });
  endRow();

  // The reference API's background analysis queue (apps/api/src/jobs/metrics.ts). Depth is read from the shared queue at
  // each scrape, so every instance reports the same number: max across instances, never sum. Attempts, retries and
  // durations are counted by the process that ran the job: sum across instances.
  row('Background analysis (queue)');
  panel({
    title: 'Queue depth',
    description:
      'Analysis jobs waiting for a worker (queued), running (active) and waiting for a retry after a failed attempt (delayed), read from the queue at each scrape (analysis_queue_jobs). Every instance reports the same shared queue, so this is the max across instances, not the sum. A queued line that keeps rising means the workers do not keep up, or none is running.',
    unit: 'short',
    min: 0,
    targets: [[`max by (state) (analysis_queue_jobs${sel('state=~"queued|active|delayed"')})`, '{{state}}']],
  });
  panel({
    title: 'Failed jobs kept',
    description:
      'Jobs that failed for good and are still stored for inspection (analysis_queue_jobs{state="failed"}): every attempt failed, or a permanent error (unknown workflow, invalid definition) failed them at once. Their error is in GET /api/jobs/{id}. A step up means new failures; max across instances because the queue is shared.',
    unit: 'short',
    type: 'stat',
    min: 0,
    targets: [[`max(analysis_queue_jobs${sel('state="failed"')})`, 'failed']],
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: 'area',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: 'auto',
    },
  });
  panel({
    title: 'Job throughput by outcome',
    description:
      'Job attempts finished per second, by outcome (analysis_jobs_total): completed, retry (the attempt failed and the job will run again after a backoff) and failed (no attempt left, or a permanent error). Each process counts the attempts it ran, so this is the sum across instances; only scraped processes count (worker-only processes, --role worker, serve no /metrics). 0 while no job runs.',
    unit: 'ops',
    targets: [[`sum by (outcome) (${rate('analysis_jobs_total')}) or vector(0)`, '{{outcome}}']],
  });
  panel({
    title: 'Job retries',
    description:
      'Job attempts per second that failed and will be retried with exponential backoff (analysis_job_retries_total). Retries usually mean GoHighLevel or the database answered with a transient error; 0 when none.',
    unit: 'ops',
    targets: [[`sum(${rate('analysis_job_retries_total')}) or vector(0)`, 'retries']],
  });
  panel({
    title: 'Job duration p50 / p95 / p99',
    description:
      'Duration quantiles of job attempts, every outcome, estimated from analysis_job_duration_seconds buckets. Time spent queued is not included: see "Queue depth" for waiting jobs.',
    unit: 's',
    targets: [0.5, 0.95, 0.99].map((p) => [
      q(p, 'le', 'analysis_job_duration_seconds_bucket'),
      `p${Math.round(p * 100)}`,
    ]),
  });
  panel({
    title: 'Job failure ratio',
    description:
      'Share of the jobs that ended (completed or failed) which failed for good (analysis_jobs_total{outcome="failed"}); attempts that will be retried are not counted as failures here (see "Job retries"). Reads 0, not "no data", while no job fails.',
    unit: 'percentunit',
    min: 0,
    targets: [
      [
        `(sum(${rate('analysis_jobs_total', 'outcome="failed"')}) or vector(0)) / clamp_min(sum(${rate('analysis_jobs_total', 'outcome=~"completed|failed"')}) or vector(0), 1e-9)`,
        'failed',
      ],
    ],
  });
  endRow();
}

const variable = (name: string, label: string, query: string) => ({
  name,
  label,
  type: 'query',
  datasource: ds,
  query: { query, refId: `${name}-var`, qryType: 1 },
  definition: query,
  refresh: 2,
  multi: true,
  includeAll: true,
  allValue: '.+',
  current: {},
  options: [],
  sort: 1,
  hide: 0,
  regex: '',
});

interface DashboardSpec {
  rows: (() => void)[];
  out: string;
  title: string;
  uid: string;
  description: string;
  tags: string[];
  requires: ('timeseries' | 'heatmap' | 'stat')[];
  inputDescription: string;
}

/** One dashboard as the file it is committed as: its path and its JSON text. */
export interface GeneratedDashboard {
  path: string;
  json: string;
}

function build({
  rows,
  out,
  title,
  uid,
  description,
  tags,
  requires,
  inputDescription,
}: DashboardSpec): GeneratedDashboard {
  id = 0;
  y = 0;
  x = 0;
  panels = [];
  for (const r of rows) r();
  // Heatmap targets read buckets as a heatmap series.
  for (const p of panels) if (p.type === 'heatmap') for (const t of p.targets ?? []) t.format = 'heatmap';
  const dashboard = {
    __inputs: [
      {
        name: 'DS_PROMETHEUS',
        label: 'Prometheus',
        description: inputDescription,
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      },
    ],
    __elements: {},
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.4.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ...requires.map((p) => ({
        type: 'panel',
        id: p,
        name: { timeseries: 'Time series', heatmap: 'Heatmap', stat: 'Stat' }[p],
        version: '',
      })),
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description,
    editable: false,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [],
    panels,
    refresh: '30s',
    schemaVersion: 39,
    tags,
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: { selected: false, text: 'Prometheus', value: '${DS_PROMETHEUS}' },
          hide: 0,
          includeAll: false,
          multi: false,
          options: [],
          refresh: 1,
          regex: '',
        },
        variable('job', 'job', 'label_values(http_requests_total, job)'),
        variable('instance', 'instance', 'label_values(http_requests_total{job=~"$job"}, instance)'),
      ],
    },
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: '',
    title,
    uid,
    version: 1,
    weekStart: '',
  };
  return { path: out, json: `${JSON.stringify(dashboard, null, 2)}\n` };
}

/** Both dashboards, generated: @org/metrics' generic one and the reference API's. */
export function generateDashboards(): GeneratedDashboard[] {
  return [
    build({
      rows: [trafficRow, runtimeRow],
      out: fileURLToPath(new URL('../../packages/metrics/dashboards/http.json', import.meta.url)),
      title: 'HTTP service (RED)',
      uid: 'org-metrics-http',
      description:
        'RED metrics (rate, errors, duration) and the Node.js runtime of a service instrumented with @org/metrics.',
      tags: ['http', 'red', 'nodejs', 'org-metrics'],
      requires: ['timeseries'],
      inputDescription: 'The Prometheus that scrapes the service',
    }),
    build({
      rows: [trafficRow, runtimeRow, apiRows],
      out: fileURLToPath(new URL('./dashboards/api-overview.json', import.meta.url)),
      title: 'API overview',
      uid: 'org-api-overview',
      description:
        'RED metrics, Node.js runtime, dependencies (PostgreSQL, cache, GoHighLevel API), business metrics and the background analysis queue of an API instrumented with @org/metrics.',
      tags: ['api', 'red', 'nodejs', 'org-metrics'],
      requires: ['timeseries', 'heatmap', 'stat'],
      inputDescription: 'The Prometheus that scrapes the API',
    }),
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const { path, json } of generateDashboards()) {
    writeFileSync(path, json);
    const panels = (JSON.parse(json) as { panels: Panel[] }).panels.filter((p) => p.type !== 'row').length;
    process.stdout.write(`wrote ${path}: ${panels} panels\n`);
  }
}
