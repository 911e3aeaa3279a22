import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';

/**
 * A TypeScript port of grafana/dashboard-linter's rules, written from its documentation (docs/index.md:
 * template-datasource, template-job, template-instance, template-label-promql, template-on-time-change-reload,
 * panel-datasource, panel-title-description, panel-units, panel-no-targets, target-promql,
 * target-rate-interval, target-job, target-instance, uneditable-dashboard), plus the sharing-format
 * checks an importable dashboard needs (__inputs, __requires, no hard-coded datasource).
 */

export const dashboardPath = fileURLToPath(new URL('../grafana/dashboards/api-overview.json', import.meta.url));
export const alertsPath = fileURLToPath(new URL('../prometheus/alerts.yml', import.meta.url));
export const opsPrometheusDir = fileURLToPath(new URL('../prometheus/', import.meta.url));

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Dashboard = Record<string, any>;

export interface Violation {
  rule: string;
  where: string;
  message: string;
}

/** The reference API's dashboard, or another dashboard file in the same format. */
export function loadDashboard(path: string = dashboardPath): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

export interface PanelTarget {
  panel: string;
  refId: string;
  expr: string;
}

/** Every non-row panel, nested rows included. */
export function panelsOf(d: Dashboard): any[] {
  const out: any[] = [];
  for (const p of d.panels ?? []) {
    if (p.type === 'row') out.push(...(p.panels ?? []));
    else out.push(p);
  }
  return out;
}

export function targetsOf(d: Dashboard): PanelTarget[] {
  return panelsOf(d).flatMap((p) =>
    (p.targets ?? []).map((t: any) => ({ panel: p.title, refId: t.refId, expr: t.expr as string })),
  );
}

/** Grafana's variables replaced by values PromQL accepts, as Grafana itself would before sending. */
export function expand(expr: string, values: { job?: string; instance?: string; rateInterval?: string } = {}): string {
  return expr
    .replaceAll('$__rate_interval', values.rateInterval ?? '1m')
    .replaceAll('$__interval', values.rateInterval ?? '1m')
    .replaceAll('$__range', '1h')
    .replaceAll('$job', values.job ?? '.+')
    .replaceAll('$instance', values.instance ?? '.+');
}

export interface ParsedExpr {
  errors: number;
  /** Metric names of every vector selector. */
  metrics: string[];
  /** Label matchers of every vector selector, as written. */
  selectors: { metric: string; matchers: string }[];
  /** Functions that take a range vector, with the range as written. */
  ranges: { fn: string; range: string }[];
}

/** Parses with @prometheus-io/lezer-promql (the parser of the Prometheus UI), no promtool needed. */
export function parsePromQL(expr: string): ParsedExpr {
  const tree = parser.parse(expr);
  const out: ParsedExpr = { errors: 0, metrics: [], selectors: [], ranges: [] };
  tree.iterate({
    enter(node) {
      if (node.type.isError) out.errors++;
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        const matchers = node.node.getChild('LabelMatchers');
        const metric = id ? expr.slice(id.from, id.to) : '';
        if (metric) out.metrics.push(metric);
        out.selectors.push({ metric, matchers: matchers ? expr.slice(matchers.from, matchers.to) : '' });
      }
      if (node.name === 'FunctionCall') {
        const ident = node.node.getChild('FunctionIdentifier');
        const body = node.node.getChild('FunctionCallBody');
        const matrix = body?.getChild('MatrixSelector');
        if (ident && matrix) {
          const text = expr.slice(matrix.from, matrix.to);
          out.ranges.push({ fn: expr.slice(ident.from, ident.to), range: text.slice(text.lastIndexOf('[') + 1, -1) });
        }
      }
    },
  });
  return out;
}

// Grafana unit ids used by API dashboards (a subset of Grafana's categories; unknown ids render raw).
export const GRAFANA_UNITS = new Set([
  'none',
  'short',
  'percent',
  'percentunit',
  's',
  'ms',
  'µs',
  'ns',
  'bytes',
  'decbytes',
  'bits',
  'reqps',
  'ops',
  'rps',
  'wps',
  'iops',
  'opm',
  'rpm',
  'bool',
  'bool_yes_no',
  'bool_on_off',
  'dtdurations',
  'hertz',
  'Bps',
  'binBps',
]);

const isTemplatedDs = (ds: unknown): boolean => {
  if (typeof ds === 'string') return ds === '$datasource' || ds === '${datasource}';
  const uid = (ds as { uid?: unknown } | null)?.uid;
  return typeof uid === 'string' && (uid === '$datasource' || uid === '${datasource}');
};

export function lintDashboard(d: Dashboard): Violation[] {
  const v: Violation[] = [];
  const add = (rule: string, where: string, message: string) => v.push({ rule, where, message });
  const vars: any[] = d.templating?.list ?? [];
  const byName = new Map(vars.map((t) => [t.name, t]));

  // template-datasource-rule
  const dsVar = byName.get('datasource');
  if (!dsVar || dsVar.type !== 'datasource')
    add('template-datasource-rule', 'templating', 'needs a variable "datasource" of type datasource');
  else {
    if (dsVar.query !== 'prometheus')
      add('template-datasource-rule', 'datasource', 'datasource variable must query "prometheus"');
    if (dsVar.label !== 'Data source')
      add('template-datasource-rule', 'datasource', 'datasource variable should be labelled "Data source"');
  }
  // template-job-rule / template-instance-rule
  for (const name of ['job', 'instance']) {
    const rule = `template-${name}-rule`;
    const t = byName.get(name);
    if (!t) {
      add(rule, 'templating', `needs a "${name}" variable`);
      continue;
    }
    if (t.type !== 'query') add(rule, name, 'must be a query variable');
    if (!isTemplatedDs(t.datasource)) add(rule, name, 'must use the templated datasource');
    if (t.label !== name) add(rule, name, `should be labelled "${name}"`);
    if (t.multi !== true) add(rule, name, 'should be multi-select');
    if (t.includeAll !== true) add(rule, name, 'should include "All"');
    if (t.allValue !== '.+') add(rule, name, 'allValue should be ".+"');
  }
  for (const t of vars.filter((x) => x.type === 'query')) {
    // template-on-time-change-reload-rule
    if (t.refresh !== 2)
      add(
        'template-on-time-change-reload-rule',
        t.name,
        'query variables should refresh on time range change (refresh: 2)',
      );
    // template-label-promql-rule
    const query = typeof t.query === 'string' ? t.query : t.query?.query;
    const m = /^label_values\((.*),\s*([a-zA-Z_]\w*)\)$/.exec(String(query ?? ''));
    const inner = m ? m[1]! : String(query ?? '');
    if (!m && !/^(label_values|metrics|query_result)\(/.test(inner))
      add('template-label-promql-rule', t.name, `unsupported variable query ${inner}`);
    else if (m && parsePromQL(expand(inner)).errors > 0)
      add('template-label-promql-rule', t.name, `invalid PromQL in ${inner}`);
  }
  // uneditable-dashboard-rule
  if (d.editable !== false)
    add('uneditable-dashboard-rule', 'dashboard', 'shared dashboards should be uneditable (editable: false)');

  for (const p of panelsOf(d)) {
    const where = `panel "${p.title ?? p.id}"`;
    if (!isTemplatedDs(p.datasource)) add('panel-datasource-rule', where, 'panel must use the templated datasource');
    if (!p.title || !String(p.title).trim()) add('panel-title-description-rule', where, 'panel needs a title');
    if (!p.description || !String(p.description).trim())
      add('panel-title-description-rule', where, 'panel needs a description');
    const unit = p.fieldConfig?.defaults?.unit;
    if (!unit || !GRAFANA_UNITS.has(unit))
      add('panel-units-rule', where, `panel needs a valid unit (got ${JSON.stringify(unit)})`);
    const targets: any[] = p.targets ?? [];
    if (targets.length === 0) add('panel-no-targets-rule', where, 'panel has no targets');
    for (const t of targets) {
      const tw = `${where} target ${t.refId}`;
      if (t.datasource !== undefined && !isTemplatedDs(t.datasource))
        add('panel-datasource-rule', tw, 'target must use the templated datasource');
      const expr = String(t.expr ?? '');
      const parsed = parsePromQL(expand(expr));
      if (!expr || parsed.errors > 0) add('target-promql-rule', tw, `invalid PromQL: ${expr}`);
      const raw = parsePromQL(expr.replaceAll('$__rate_interval', '999h'));
      for (const r of raw.ranges) {
        if (['rate', 'irate', 'increase', 'delta', 'idelta', 'deriv'].includes(r.fn) && r.range !== '999h')
          add('target-rate-interval-rule', tw, `${r.fn}() should use [$__rate_interval], not [${r.range}]`);
      }
      for (const s of raw.selectors) {
        if (!/job=~"\$job"/.test(s.matchers))
          add('target-job-rule', tw, `selector ${s.metric}${s.matchers} must filter job=~"$job"`);
        if (!/instance=~"\$instance"/.test(s.matchers))
          add('target-instance-rule', tw, `selector ${s.metric}${s.matchers} must filter instance=~"$instance"`);
      }
    }
  }

  // Sharing format: importable on any Grafana whatever its datasource is called.
  const input = (d.__inputs ?? []).find((i: any) => i.type === 'datasource' && i.pluginId === 'prometheus');
  if (!input) add('sharing-inputs', 'dashboard', '__inputs needs a Prometheus datasource input');
  if (!Array.isArray(d.__requires) || !d.__requires.some((r: any) => r.type === 'datasource' && r.id === 'prometheus'))
    add('sharing-requires', 'dashboard', '__requires must list the prometheus datasource');
  if (d.id !== null) add('sharing-id', 'dashboard', 'id must be null so import creates a new dashboard');
  if (typeof d.uid !== 'string' || !d.uid)
    add('sharing-uid', 'dashboard', 'a fixed uid keeps links stable across imports');
  if (!(d.schemaVersion >= 39)) add('sharing-schema', 'dashboard', 'schemaVersion must be >= 39');
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`));
    else if (node && typeof node === 'object') {
      for (const [k, val] of Object.entries(node)) {
        if (k === 'datasource' && !path.startsWith('.annotations')) {
          const uid = typeof val === 'string' ? val : (val as { uid?: string } | null)?.uid;
          if (typeof uid !== 'string' || !uid.startsWith('$'))
            add('sharing-hardcoded-datasource', `${path}.${k}`, `hard-coded datasource ${JSON.stringify(val)}`);
        }
        walk(val, `${path}.${k}`);
      }
    }
  };
  walk(d, '');
  return v;
}

/** The expressions of a rules file such as ops/prometheus/alerts.yml (a tiny reader for its `expr:` fields, block or inline; recording rules get alert ''). */
export function alertExprs(yaml: string): { alert: string; expr: string }[] {
  const out: { alert: string; expr: string }[] = [];
  const lines = yaml.split('\n');
  let alert = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const a = /^\s*- alert:\s*(\S+)/.exec(line);
    if (a) alert = a[1]!;
    if (/^\s*- record:/.test(line)) alert = '';
    const e = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!e) continue;
    if (e[2] === '|' || e[2] === '>') {
      const indent = e[1]!.length;
      const body: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > indent))
        body.push(lines[++i]!.trim());
      out.push({ alert, expr: body.join(' ').trim() });
    } else out.push({ alert, expr: e[2]!.trim() });
  }
  return out;
}
