import { createMetrics } from '@org/metrics';
import { describe, expect, it } from 'vitest';
import { createWorkflowMetrics } from './metrics.js';

describe('workflow metrics hooks (real prom-client registry through @org/metrics)', () => {
  it('feeds ghl_api_* and workflow_analysis_* from the client and service events', async () => {
    const metrics = createMetrics({ runtime: false });
    const hooks = createWorkflowMetrics(metrics);
    hooks.onGhlRequest({ endpoint: 'GET /workflows/', durationMs: 120, statusCode: 200 });
    hooks.onGhlRequest({ endpoint: 'GET /workflows/', durationMs: 5, statusCode: 429, error: 'GHL_RATE_LIMITED' });
    hooks.onGhlRequest({ endpoint: 'GET /workflows/', durationMs: 800, statusCode: 0, error: 'GHL_TIMEOUT' });
    hooks.onAnalysis({
      tier: 'pro',
      status: 'ok',
      durationMs: 30,
      score: 72,
      findings: [{ ruleId: 'loop.tag-retrigger', severity: 'critical' }],
    });
    hooks.onAnalysis({ tier: 'pro', status: 'cached', durationMs: 1 });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/ghl_api_requests_total\{endpoint="\/workflows",status_code="200"\} 1/);
    expect(text).toMatch(/ghl_api_errors_total\{endpoint="\/workflows",error_type="rate_limited"\} 1/);
    expect(text).toMatch(/ghl_api_errors_total\{endpoint="\/workflows",error_type="timeout"\} 1/);
    expect(text).toMatch(/workflow_analysis_total\{tier="pro",status="ok"\} 1/);
    expect(text).toMatch(/workflow_analysis_total\{tier="pro",status="cached"\} 1/);
    expect(text).toMatch(/workflow_health_score_count 1/);
    expect(text).toMatch(/workflow_issues_found_total\{type="loop.tag-retrigger",severity="critical"\} 1/);
  });
});
