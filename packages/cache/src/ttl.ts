import { CacheOptionsError } from './errors.js';

/** Common TTLs in seconds, named after what they cache. */
export const CacheTTL = Object.freeze({
  SHORT: 60,
  MEDIUM: 300,
  LONG: 1800,
  WORKFLOW: 600,
  ANALYSIS: 3600,
  USER: 900,
} as const);

export type CacheTTLName = keyof typeof CacheTTL;

/**
 * A duration: seconds as a number, or a string with a unit such as `'500ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`
 * (the syntax of `@org/tiered-rate-limit` windows).
 */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** Longest numeric TTL accepted without `allowLongTtl`: 30 days, in seconds. */
export const MAX_NUMERIC_TTL_SECONDS = 30 * 86_400;

/** Longest duration the cache accepts at all (10 years), in ms. */
const MAX_MS = 10 * 365 * 86_400_000;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

export interface DurationRules {
  /** Whether 0 is accepted (a grace of 0 turns grace off; a TTL of 0 is refused). */
  allowZero: boolean;
  /** Whether a number above 30 days is accepted (`allowLongTtl`). */
  allowLong: boolean;
}

/**
 * Milliseconds of a `Duration`. A number is seconds; above 30 days it is refused unless `allowLong`, because a
 * millisecond TTL carried over from cache-manager or keyv (`60000` for one minute) would otherwise silently mean
 * 16.7 hours, and `2592000000` 82 years. Strings carry their unit, so they are taken as written.
 */
export function durationMs(value: unknown, what: string, rules: DurationRules): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !rules.allowZero)) {
      throw new CacheOptionsError(
        `${what} must be a ${rules.allowZero ? 'non-negative' : 'positive'} number of seconds or a string like '30s', '5m', '1h', '1d', got ${String(value)}`,
      );
    }
    if (value > MAX_NUMERIC_TTL_SECONDS && !rules.allowLong) {
      throw new CacheOptionsError(
        `${what} is ${value} seconds (${(value / 86_400).toFixed(1)} days): numeric TTLs are seconds, not milliseconds. ` +
          `Pass a string such as '${Math.max(1, Math.round(value / 1000))}s', or { ttl, allowLongTtl: true } if you mean more than 30 days`,
      );
    }
    ms = value * 1_000;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (!match)
      throw new CacheOptionsError(
        `${what} must be seconds or a string like '30s', '5m', '1h', '1d', got ${JSON.stringify(value.slice(0, 40))}`,
      );
    ms = Number(match[1]) * UNITS[match[2]!]!;
    if (ms === 0 && !rules.allowZero)
      throw new CacheOptionsError(`${what} must be longer than 0, got ${JSON.stringify(value)}`);
  } else {
    throw new CacheOptionsError(
      `${what} must be seconds or a string like '30s', '5m', '1h', '1d', got ${value === null ? 'null' : typeof value}`,
    );
  }
  if (ms > MAX_MS) throw new CacheOptionsError(`${what} must be at most 10 years, got ${String(value)}`);
  return ms;
}
