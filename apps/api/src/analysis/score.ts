import { CRITICAL_SCORE_CAP, LOCATION_WEIGHTS, REPEAT_DECAY, SEVERITY_WEIGHTS } from './constants.js';
import type { Severity } from './rules/types.js';

export type Band = 'healthy' | 'needs-attention' | 'at-risk' | 'critical';

/**
 * The health score (catalog §5): the k-th finding of a rule costs `weight × 0.5^(k−1)`,
 * `score = max(0, round(100 − P))`, capped at 40 when any finding is critical.
 */
export function healthScore(findings: readonly { ruleId: string; severity: Severity }[]): number {
  const seen = new Map<string, number>();
  let penalty = 0;
  let critical = false;
  for (const f of findings) {
    const k = seen.get(f.ruleId) ?? 0;
    seen.set(f.ruleId, k + 1);
    penalty += SEVERITY_WEIGHTS[f.severity] * REPEAT_DECAY ** k;
    if (f.severity === 'critical') critical = true;
  }
  const score = Math.max(0, Math.round(100 - penalty));
  return critical ? Math.min(score, CRITICAL_SCORE_CAP) : score;
}

/** 90–100 healthy, 70–89 needs attention, 40–69 at risk, 0–39 critical. */
export function scoreBand(score: number): Band {
  if (score >= 90) return 'healthy';
  if (score >= 70) return 'needs-attention';
  if (score >= 40) return 'at-risk';
  return 'critical';
}

/**
 * A location's score: the mean of its workflow scores, published weighted 1 and drafts 0.25.
 * `null` for a location without workflows: there is nothing to be healthy or not.
 */
export function locationScore(workflows: readonly { status: string; score: number }[]): number | null {
  let weighted = 0;
  let total = 0;
  for (const w of workflows) {
    const weight = w.status === 'published' ? LOCATION_WEIGHTS.published : LOCATION_WEIGHTS.draft;
    weighted += w.score * weight;
    total += weight;
  }
  return total === 0 ? null : Math.round(weighted / total);
}
