/** The per-call options of `set` and `wrap` (TTL, grace, tags, timeouts), checked and resolved against the cache's options. */
import { CacheOptionsError } from './errors.js';
import { checkTags, type FactoryDecisions } from './factory-context.js';
import type { ResolvedOptions } from './options.js';
import { durationMs } from './ttl.js';
import type { SetOptions, WrapOptions } from './types.js';

export interface WriteSpec {
  ttlMs: number;
  graceMs: number;
  tags: readonly string[] | undefined;
  /** Whether a factory may set a numeric TTL above 30 days. */
  allowLongTtl: boolean;
}

export interface WrapSpec extends WriteSpec {
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
}

/** A per-call timeout of `wrap`: undefined when not given, else a positive number of ms. */
function positiveMs(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0)) throw new CacheOptionsError(`${what} must be a positive number of ms`);
  return v;
}

export function writeSpec(o: ResolvedOptions, options: SetOptions | undefined): WriteSpec {
  const allowLong = o.allowLongTtl;
  if (options === undefined)
    return { ttlMs: o.defaultTtlMs, graceMs: o.graceMs, tags: undefined, allowLongTtl: allowLong };
  if (typeof options === 'number' || typeof options === 'string') {
    return {
      ttlMs: durationMs(options, 'ttl', { allowZero: false, allowLong }),
      graceMs: o.graceMs,
      tags: undefined,
      allowLongTtl: allowLong,
    };
  }
  if (typeof options !== 'object' || options === null)
    throw new CacheOptionsError("the options of set/wrap must be a TTL (seconds or a string like '5m') or an object");
  if (options.allowLongTtl !== undefined && typeof options.allowLongTtl !== 'boolean')
    throw new CacheOptionsError('allowLongTtl must be a boolean');
  const rules = { allowZero: false, allowLong: options.allowLongTtl ?? allowLong };
  return {
    ttlMs: options.ttl === undefined ? o.defaultTtlMs : durationMs(options.ttl, 'ttl', rules),
    graceMs:
      options.grace === undefined ? o.graceMs : durationMs(options.grace, 'grace', { ...rules, allowZero: true }),
    tags: checkTags(options.tags),
    allowLongTtl: rules.allowLong,
  };
}

export function wrapSpec(o: ResolvedOptions, options: WrapOptions | undefined): WrapSpec {
  // Built on the write spec in place (it is a fresh object): no copy per wrap call.
  const spec = writeSpec(o, options as SetOptions | undefined) as WrapSpec;
  const own = typeof options === 'object' && options !== null ? options : undefined;
  spec.softTimeoutMs = positiveMs(own?.softTimeoutMs, 'softTimeoutMs') ?? o.softTimeoutMs;
  spec.hardTimeoutMs = positiveMs(own?.hardTimeoutMs, 'hardTimeoutMs') ?? o.hardTimeoutMs;
  return spec;
}

/** The write spec of a factory's result: its own TTL or tags (set through the factory context) win. */
export function withDecisions(spec: WriteSpec, decisions: FactoryDecisions): WriteSpec {
  if (decisions.ttlMs === undefined && decisions.tags === undefined) return spec;
  const tags = decisions.tags === undefined ? spec.tags : decisions.tags.length === 0 ? undefined : decisions.tags;
  return { ttlMs: decisions.ttlMs ?? spec.ttlMs, graceMs: spec.graceMs, tags, allowLongTtl: spec.allowLongTtl };
}
