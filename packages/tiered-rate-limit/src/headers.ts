import type { Decision, HeaderOptions, PolicyState } from './types.js';

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

/** Where headers are written: an Express / `http.ServerResponse`, or a collector. */
export interface HeaderTarget {
  setHeader(name: string, value: string): unknown;
}

/**
 * Writes every rate-limit header of one decision into `target`, in the order `rateLimitHeaders` lists
 * them, and returns the policy the X-RateLimit-* headers describe (undefined when they are not written),
 * so that a 429 body can reuse it. Internal: the middleware writes straight into the response.
 */
export function writeRateLimitHeaders(target: HeaderTarget, decision: Decision, options: HeaderOptions): PolicyState | undefined {
  target.setHeader('X-RateLimit-Tier', decision.tier.name);
  if (decision.outcome !== 'allowed') target.setHeader('Retry-After', String(decision.retryAfterSec));
  const states = decision.policies;
  if (states.length === 0) return undefined;
  if (options.standard !== false) {
    let policy = '';
    let limit = '';
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!;
      const sep = i === 0 ? '' : ', ';
      policy += `${sep}"${s.policy}";q=${s.limit};w=${s.windowSec}`;
      limit += `${sep}"${s.policy}";r=${s.remaining};t=${seconds(s.resetMs)}`;
    }
    target.setHeader('RateLimit-Policy', policy);
    target.setHeader('RateLimit', limit);
  }
  if (options.legacy === false) return undefined;
  const s = mostRestrictive(decision)!;
  target.setHeader('X-RateLimit-Limit', String(s.limit));
  target.setHeader('X-RateLimit-Window', String(s.windowSec));
  target.setHeader('X-RateLimit-Remaining', String(s.remaining));
  target.setHeader('X-RateLimit-Reset', String(Math.floor(decision.nowMs / 1000) + seconds(s.resetMs)));
  return s;
}

class HeaderList implements HeaderTarget {
  readonly headers: [string, string][] = [];
  setHeader(name: string, value: string): void {
    this.headers.push([name, value]);
  }
}

/**
 * Every rate-limit header of one decision, from one clock reading: `t` of a policy, `X-RateLimit-Reset`
 * minus the decision's epoch second, and `Retry-After` are the same number for the policy that decides.
 */
export function rateLimitHeaders(decision: Decision, options: HeaderOptions = {}): [string, string][] {
  const list = new HeaderList();
  writeRateLimitHeaders(list, decision, options);
  return list.headers;
}
