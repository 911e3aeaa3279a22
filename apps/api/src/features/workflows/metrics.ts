import { createExternalApiMetrics, type Metrics } from '@org/metrics';
import type { GhlRequestEvent } from '../../ghl/client.js';
import type { AnalysisEvent } from './service.js';

/** The hooks `createWorkflowModule` takes (`onGhlRequest`, `onAnalysis`), fed into @org/metrics. */
export interface WorkflowMetricsHooks {
  onGhlRequest(event: GhlRequestEvent): void;
  onAnalysis(event: AnalysisEvent): void;
}

/**
 * The GHL and workflow-analysis metrics on the app's @org/metrics handle: `ghl_api_requests_total`, `ghl_api_duration_seconds`,
 * `ghl_api_errors_total` (the external-API factory), `workflow_analysis_total{tier,status}`,
 * `workflow_analysis_duration_seconds{tier}`, `workflow_health_score` and `workflow_issues_found_total{type,severity}`
 * (type = rule id: a closed set of 41). The wiring passes the result's hooks to createWorkflowModule in compose.ts.
 */
export function createWorkflowMetrics(metrics: Metrics): WorkflowMetricsHooks {
  const ghl = createExternalApiMetrics(metrics, { name: 'ghl' });
  const { analyses, duration, score, issues } = workflowAnalysisMetrics(metrics);
  return {
    onGhlRequest(e) {
      // The label is the path template (the method is implied: the client's calls are GETs but for the token endpoint).
      ghl.record(
        e.endpoint.replace(/^[A-Z]+ /, ''),
        e.durationMs / 1000,
        e.statusCode === 0 ? undefined : e.statusCode,
        e.error === undefined
          ? undefined
          : { code: e.error, name: e.error === 'GHL_TIMEOUT' ? 'TimeoutError' : 'GhlError' },
      );
    },
    onAnalysis(e) {
      analyses.inc({ tier: e.tier, status: e.status });
      duration.observe({ tier: e.tier }, e.durationMs / 1000);
      if (e.status !== 'ok') return;
      if (e.score !== undefined) score.observe(e.score);
      for (const f of e.findings ?? []) issues.inc({ type: f.ruleId, severity: f.severity });
    },
  };
}

/**
 * The workflow analysis metrics, defined here only (get-or-create: asking twice returns the same metrics). Labels are
 * closed sets: tier, status, rule id, severity.
 */
export function workflowAnalysisMetrics(metrics: Metrics) {
  return {
    analyses: metrics.counter({
      name: 'workflow_analysis_total',
      help: 'Workflow analyses by tier and outcome (ok, cached, invalid, error).',
      labelNames: ['tier', 'status'],
    }),
    duration: metrics.histogram({
      name: 'workflow_analysis_duration_seconds',
      help: 'Duration of workflow analyses (definition loading, analysis and storage), in seconds.',
      labelNames: ['tier'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    score: metrics.histogram({
      name: 'workflow_health_score',
      help: 'Health scores (0-100) of fresh analyses.',
      buckets: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    }),
    issues: metrics.counter({
      name: 'workflow_issues_found_total',
      help: 'Findings of fresh analyses by rule id and severity.',
      labelNames: ['type', 'severity'],
    }),
  };
}
