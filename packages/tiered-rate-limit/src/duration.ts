import { InvalidOptionsError } from './errors.js';

const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a Duration; throws InvalidOptionsError (naming `path`) for anything else. */
export function toMs(value: unknown, path: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value * 1_000;
  } else if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
    if (!match)
      throw new InvalidOptionsError(path, `expected seconds or a string like '1m', '1h', got ${JSON.stringify(value)}`);
    ms = Number(match[1]) * units[match[2]!]!;
  } else {
    throw new InvalidOptionsError(path, `expected seconds or a string like '1m', got ${typeof value}`);
  }
  // Whole seconds, because the draft-11 `w` parameter and Retry-After are integer seconds.
  if (!Number.isFinite(ms) || ms < 1_000 || ms % 1_000 !== 0 || ms > 366 * 86_400_000) {
    throw new InvalidOptionsError(
      path,
      `must be a whole number of seconds between 1 s and 366 days, got ${String(value)}`,
    );
  }
  return ms;
}
