import type { Decision, HeaderOptions, PolicyState } from './types.js';

/** The policy a client should watch: the violated one with the longest wait, else the one with the least left. */
export function mostRestrictive(decision: Decision): PolicyState | undefined {
  let best: PolicyState | undefined;
  for (const s of decision.violated.length ? decision.violated : decision.policies) {
    if (!best) best = s;
    else if (
      decision.violated.length
        ? s.retryAfterMs > best.retryAfterMs
        : s.remaining < best.remaining || (s.remaining === best.remaining && s.resetMs > best.resetMs)
    )
      best = s;
  }
  return best;
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

/** Where headers are written: an Express / `http.ServerResponse`, or a collector. */
export interface HeaderTarget {
  setHeader(name: string, value: string): unknown;
}

/** The parts of a decision's headers that depend only on its policies' names, limits and windows. */
interface PolicyStrings {
  readonly states: readonly PolicyState[];
  /** The RateLimit-Policy value. */
  readonly policy: string;
  /** Per policy: `"name";` as the RateLimit value's items start, and the limit and window as strings. */
  readonly items: readonly string[];
  readonly limits: readonly string[];
  readonly windows: readonly string[];
}

// One entry per tier: the policies a tier's requests list are usually the same from one request to the next, so
// these strings are built once instead of per response. A different list (or an outage's scaled limits) replaces it.
const policyStrings = new WeakMap<object, PolicyStrings>();

function stringsFor(decision: Decision): PolicyStrings {
  const states = decision.policies;
  const cached = policyStrings.get(decision.tier);
  if (cached !== undefined && sameShape(cached.states, states)) return cached;
  let policy = '';
  const items: string[] = [];
  const limits: string[] = [];
  const windows: string[] = [];
  for (let i = 0; i < states.length; i++) {
    const s = states[i]!;
    policy += `${i === 0 ? '' : ', '}"${s.policy}";q=${s.limit};w=${s.windowSec}`;
    items.push(`${i === 0 ? '' : ', '}"${s.policy}";r=`);
    limits.push(String(s.limit));
    windows.push(String(s.windowSec));
  }
  const made: PolicyStrings = { states, policy, items, limits, windows };
  policyStrings.set(decision.tier, made);
  return made;
}

function sameShape(a: readonly PolicyState[], b: readonly PolicyState[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.policy !== y.policy || x.limit !== y.limit || x.windowSec !== y.windowSec) return false;
  }
  return true;
}

/**
 * Writes every rate-limit header of one decision into `target`, in the order `rateLimitHeaders` lists
 * them, and returns the policy the X-RateLimit-* headers describe (undefined when they are not written),
 * so that a 429 body can reuse it. Internal: the middleware writes straight into the response.
 */
export function writeRateLimitHeaders(
  target: HeaderTarget,
  decision: Decision,
  options: HeaderOptions,
): PolicyState | undefined {
  target.setHeader('X-RateLimit-Tier', decision.tier.name);
  if (decision.outcome !== 'allowed') target.setHeader('Retry-After', String(decision.retryAfterSec));
  const states = decision.policies;
  if (states.length === 0) return undefined;
  const strings = stringsFor(decision);
  if (options.standard !== false) {
    let limit = '';
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!;
      limit += `${strings.items[i]!}${s.remaining};t=${seconds(s.resetMs)}`;
    }
    target.setHeader('RateLimit-Policy', strings.policy);
    target.setHeader('RateLimit', limit);
  }
  if (options.legacy === false) return undefined;
  const s = mostRestrictive(decision)!;
  const at = states.indexOf(s);
  target.setHeader('X-RateLimit-Limit', at === -1 ? String(s.limit) : strings.limits[at]!);
  target.setHeader('X-RateLimit-Window', at === -1 ? String(s.windowSec) : strings.windows[at]!);
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
