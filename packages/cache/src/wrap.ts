/**
 * `wrap`: the cached value, or the factory's. A fresh value in memory answers at once; otherwise one computation
 * per key (single-flight.ts) reads Redis, takes the lock or waits for its holder, and runs the factory under the
 * soft and hard timeouts, serving a stale value within grace when the factory fails or is slow. `refreshAhead`
 * recomputes a value in the background before it expires.
 */
import { withDecisions, wrapSpec, type WrapSpec } from './call-options.js';
import { CacheFactoryTimeoutError, CacheSerializationError } from './errors.js';
import { createFactoryContext } from './factory-context.js';
import { memKey } from './memory-mode.js';
import { read, write } from './redis-mode.js';
import type { CallState, Read, ScopeRef } from './state.js';
import type { WrapFactory, WrapOptions } from './types.js';

export async function wrap<T>(
  s: ScopeRef,
  key: string,
  factory: WrapFactory<T>,
  options: WrapOptions | undefined,
): Promise<T> {
  const core = s.core;
  const spec = wrapSpec(core.o, options);
  const full = s.keyPrefix + key;
  const redis = core.redis;
  const sink = s.acc.sink;
  const started = sink.now();
  if (core.o.mode !== 'fallback' || !redis!.usable) {
    const now = Date.now();
    const entry = core.memory.entry(memKey(s, key), now);
    if (entry !== undefined && entry.expiresAt > now) {
      s.acc.hit(full, 'memory');
      maybeRefresh(s, full, entry.expiresAt, entry.ttlMs, factory, spec);
      sink.observe('wrap', 'memory', started);
      return entry.value as T;
    }
  }
  let flight = core.flight.flights.get(full) as Promise<T> | undefined;
  if (flight === undefined) flight = core.flight.track(full, fly(s, full, factory, spec));
  const value = await flight;
  sink.observe('wrap', redis?.usable ? 'redis' : 'memory', started);
  return value;
}

/** One computation per key and process: read, take the cross-process lock or wait, compute. */
async function fly<T>(s: ScopeRef, full: string, factory: WrapFactory<T>, spec: WrapSpec): Promise<T> {
  const core = s.core;
  const call: CallState = { redisFailed: false };
  const first = await read(s, full, true, true, call);
  if (first?.fresh) {
    // This flight is the one registered for the key: let the refresh replace it.
    maybeRefresh(s, full, first.expiresAt, first.ttlMs, factory, spec, true);
    return first.value as T;
  }
  let stale = first;
  let token: string | undefined;
  if (core.redis !== undefined && core.o.distributedLock && core.redis.usable && !call.redisFailed) {
    const outcome = await core.flight.lockOrWait(s, full, call, spec.hardTimeoutMs);
    if (outcome.value !== undefined) return outcome.value.value as T;
    token = outcome.token;
    stale = outcome.stale ?? stale;
  }
  const release = token === undefined ? undefined : core.flight.keepLock(full, token);
  try {
    return await compute(s, full, factory, spec, stale, call);
  } finally {
    if (token !== undefined) {
      release!();
      core.flight.unlock(full, token);
    }
  }
}

async function compute<T>(
  s: ScopeRef,
  full: string,
  factory: WrapFactory<T>,
  spec: WrapSpec,
  stale: Read | undefined,
  call?: CallState,
): Promise<T> {
  const core = s.core;
  s.acc.factoryCall();
  const { context, decisions } = createFactoryContext<T>(full.slice(s.keyPrefix.length), stale, spec.allowLongTtl);
  const run = (async () => {
    const value = await factory(context);
    if (value !== undefined && !decisions.skipped)
      await write(s, full, core.codec.check(value), withDecisions(spec, decisions), call);
    return value;
  })();
  run.catch((error: unknown) => {
    if (!(error instanceof CacheSerializationError)) s.acc.factoryError();
  });
  const racers: Promise<T>[] = [run];
  const timers: NodeJS.Timeout[] = [];
  if (spec.hardTimeoutMs !== undefined) {
    const ms = spec.hardTimeoutMs;
    racers.push(
      new Promise<T>((_, reject) => timers.push(setTimeout(() => reject(new CacheFactoryTimeoutError(ms)), ms))),
    );
  }
  if (stale !== undefined && spec.softTimeoutMs !== undefined) {
    racers.push(
      new Promise<T>((resolve) =>
        timers.push(
          setTimeout(() => {
            s.acc.served(full, 'soft-timeout');
            resolve(stale.value as T);
          }, spec.softTimeoutMs),
        ),
      ),
    );
  }
  try {
    return racers.length === 1 ? await run : await Promise.race(racers);
  } catch (error) {
    // Stale-if-error: within grace, the last value beats an error (never for a value we refused).
    if (stale !== undefined && !(error instanceof CacheSerializationError)) {
      s.acc.served(full, 'error');
      return stale.value as T;
    }
    throw error;
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

function maybeRefresh<T>(
  s: ScopeRef,
  full: string,
  expiresAt: number,
  ttlMs: number,
  factory: WrapFactory<T>,
  spec: WrapSpec,
  fromFlight = false,
): void {
  const core = s.core;
  const ratio = core.o.refreshAhead;
  if (ratio === undefined || (!fromFlight && core.flight.flights.has(full))) return;
  if (expiresAt - Date.now() > ttlMs * (1 - ratio)) return;
  const flight = (async () => {
    let token: string | undefined;
    if (core.redis !== undefined && core.o.distributedLock && core.redis.usable) {
      const t = core.flight.token();
      if ((await core.flight.tryLock(full, t)) !== true) return undefined;
      token = t;
    }
    const release = token === undefined ? undefined : core.flight.keepLock(full, token);
    try {
      return await compute(
        s,
        full,
        factory,
        { ...spec, softTimeoutMs: undefined, hardTimeoutMs: undefined },
        undefined,
      );
    } finally {
      if (token !== undefined) {
        release!();
        core.flight.unlock(full, token);
      }
    }
  })();
  flight.catch(() => {
    // a failed background refresh leaves the current value in place
  });
  core.flight.track(full, flight);
}
