import type { Decision, PolicyState } from './limiter.js';

/** Which header families to emit. */
export interface HeaderOptions {
  /** `X-RateLimit-Tier/-Limit/-Window/-Remaining/-Reset` for the most restrictive policy. @default true */
  legacy?: boolean;
  /** IETF draft-11 `RateLimit-Policy` and `RateLimit` listing every policy. @default true */
  standard?: boolean;
}

/** The policy a client should watch: the violated one with the longest wait, else the one with the least left. */
export function mostRestrictive(decision: Decision): PolicyState | undefined {
  let best: PolicyState | undefined;
  for (const s of decision.violated.length ? decision.violated : decision.policies) {
    if (!best) best = s;
    else if (decision.violated.length ? s.retryAfterMs > best.retryAfterMs : s.remaining < best.remaining || (s.remaining === best.remaining && s.resetMs > best.resetMs)) best = s;
  }
  return best;
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

/**
 * Every rate-limit header of one decision, from one clock reading: `t` of a policy, `X-RateLimit-Reset`
 * minus the decision's epoch second, and `Retry-After` are the same number for the policy that decides.
 */
export function rateLimitHeaders(decision: Decision, options: HeaderOptions = {}): [string, string][] {
  const out: [string, string][] = [['X-RateLimit-Tier', decision.tier.name]];
  if (decision.outcome !== 'allowed') out.push(['Retry-After', String(decision.retryAfterSec)]);
  const states = decision.policies;
  if (states.length === 0) return out;
  if (options.standard !== false) {
    let policy = '';
    let limit = '';
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!;
      const sep = i === 0 ? '' : ', ';
      policy += `${sep}"${s.policy}";q=${s.limit};w=${s.windowSec}`;
      limit += `${sep}"${s.policy}";r=${s.remaining};t=${seconds(s.resetMs)}`;
    }
    out.push(['RateLimit-Policy', policy], ['RateLimit', limit]);
  }
  if (options.legacy !== false) {
    const s = mostRestrictive(decision)!;
    out.push(
      ['X-RateLimit-Limit', String(s.limit)],
      ['X-RateLimit-Window', String(s.windowSec)],
      ['X-RateLimit-Remaining', String(s.remaining)],
      ['X-RateLimit-Reset', String(Math.floor(decision.nowMs / 1000) + seconds(s.resetMs))],
    );
  }
  return out;
}
