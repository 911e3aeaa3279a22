import { InvalidOptionsError, UnknownTierError } from './errors.js';
import { isNodeRedis } from './client-adapter.js';
import { ALGORITHM_CODE } from './lua.js';
import { PEEK, REFUND, RESET } from './lua-admin.js';
import { MemoryStore } from './memory-store.js';
import { exceededCounter } from './metrics.js';
import { RedisStore } from './redis-store.js';
import type {
  CheckInput,
  Decision,
  DecisionSource,
  LimitState,
  Limiter,
  LimiterOptions,
  Policy,
  PolicyState,
  RefundInput,
  StateInput,
  Tier,
  TierTable,
} from './types.js';

interface Plan {
  readonly tier: Tier;
  readonly policies: readonly Policy[];
  readonly suffixes: readonly string[];
  readonly names: readonly string[];
  readonly args: readonly number[];
  readonly outage: Outage;
}

/** How a plan is decided while Redis is unavailable: everything that does not depend on the request. */
type Outage =
  /** A policy is 'closed': 503. */
  | { readonly mode: 'closed' }
  /** Every policy is 'open': admitted, with these (frozen, shared) states. */
  | { readonly mode: 'open'; readonly states: readonly PolicyState[] }
  /** The 'fallback' policies are decided from memory; 'open' ones are not reported. */
  | {
      readonly mode: 'fallback';
      /** Index in the plan of each fallback policy. */
      readonly index: readonly number[];
      readonly policies: readonly Policy[];
      readonly suffixes: readonly string[];
      /** 5 numbers per fallback policy, the limit scaled by fallbackShare. */
      readonly args: readonly number[];
    };

const CLOSED: Outage = Object.freeze({ mode: 'closed' });
const NO_STATES: readonly PolicyState[] = Object.freeze([]);

/** A principal that a Redis decision left with nothing to give, for the tier and policy list of that decision. */
interface BlockEntry {
  /** Epoch ms until which the same request is certainly rejected (the longest wait of its exhausted policies). */
  readonly until: number;
  /** When the rejection was remembered (local answers count down from it). */
  readonly at: number;
  readonly tier: Tier;
  readonly names: readonly string[];
  readonly decision: Decision;
}

const defaults = {
  connection: 'dedicated',
  clock: 'redis',
  prefix: 'rl:',
  timeoutMs: 30,
  probeIntervalMs: 200,
  fallbackShare: 1,
  maxMemoryKeys: 100_000,
  localBlock: true,
} as const;

function validate(options: LimiterOptions): Required<Pick<LimiterOptions, keyof typeof defaults>> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionsError('options', 'must be an object');
  const t = options.tiers as Partial<TierTable> | undefined;
  if (!t || typeof t.resolve !== 'function' || !Array.isArray(t.policyNames))
    throw new InvalidOptionsError('tiers', 'must come from defineTiers() or defaultTiers()');
  const o = { ...defaults, ...stripUndefined(options) };
  if (o.connection !== 'dedicated' && o.connection !== 'shared')
    throw new InvalidOptionsError('connection', "must be 'dedicated' or 'shared'");
  if (o.clock !== 'redis' && o.clock !== 'local') throw new InvalidOptionsError('clock', "must be 'redis' or 'local'");
  if (typeof o.prefix !== 'string' || /[{}]/.test(o.prefix))
    throw new InvalidOptionsError(
      'prefix',
      'must be a string without { or } (they would change the Cluster hash slot)',
    );
  const range = (name: keyof typeof defaults, value: unknown, min: number, max: number, integer: boolean) => {
    if (typeof value !== 'number' || !(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
      throw new InvalidOptionsError(
        name,
        `must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got ${String(value)}`,
      );
    }
  };
  range('timeoutMs', o.timeoutMs, 1, 60_000, true);
  range('probeIntervalMs', o.probeIntervalMs, 10, 60_000, true);
  range('fallbackShare', o.fallbackShare, 0.001, 1, false);
  range('maxMemoryKeys', o.maxMemoryKeys, 1, 1e8, true);
  if (typeof o.localBlock !== 'boolean') throw new InvalidOptionsError('localBlock', 'must be a boolean');
  if (
    options.redis !== undefined &&
    (typeof options.redis !== 'object' ||
      (!isNodeRedis(options.redis) && typeof (options.redis as { evalsha?: unknown }).evalsha !== 'function'))
  ) {
    throw new InvalidOptionsError('redis', 'must be an ioredis Redis or Cluster client, or a node-redis client');
  }
  if (options.logger !== undefined && typeof options.logger?.warn !== 'function')
    throw new InvalidOptionsError('logger', 'must have a warn(message) method');
  if (
    options.registry !== undefined &&
    typeof (options.registry as { getSingleMetric?: unknown })?.getSingleMetric !== 'function'
  ) {
    throw new InvalidOptionsError('registry', 'must be a prom-client Registry');
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Version of the Redis key layout, part of every key name (`<prefix>v2:{<principal>}:<policy>`, one HASH per
 * policy). A layout change takes a new version, so that instances of two releases side by side during a
 * rolling deploy each count in their own keys instead of misreading the other's values.
 */
const KEY_VERSION = 'v2:';

// `{` and `}` in a caller's key would move the hash tag; percent-encode them.
function escapeKey(key: string): string {
  return key.includes('{') || key.includes('}')
    ? key.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : key;
}

/** Creates the framework-independent limiter. Throws InvalidOptionsError for bad options. */
export function createLimiter(options: LimiterOptions): Limiter {
  const o = validate(options);
  const { tiers } = options;
  const logger = options.logger ?? console;
  const memory = new MemoryStore({ maxKeys: o.maxMemoryKeys });
  const redis = options.redis
    ? new RedisStore(options.redis, {
        connection: o.connection,
        timeoutMs: o.timeoutMs,
        probeIntervalMs: o.probeIntervalMs,
        logger,
        onStateChange: options.onStateChange,
      })
    : undefined;
  const counter = exceededCounter(options.registry);
  // Tier names come from a bounded table and policy lists from code, so these caches stay small (and are capped).
  const plans = new Map<string, Plan>();
  const plansByArray = new WeakMap<readonly string[], Map<string, Plan>>();
  // Keyed by the principal's Redis key (`base`): one entry per principal, for its last rejected tier and policy list.
  const blocks = new Map<string, BlockEntry>();
  // Each entry keeps its decision (for the headers of local answers), so this list has its own, smaller cap (in principals).
  const blockCap = Math.min(o.maxMemoryKeys, 10_000);
  const defaultPolicies = Object.freeze([tiers.policyNames[0]!]);
  // A 'closed' policy answers 503 until the next probe could find Redis back.
  const closedRetrySec = Math.max(1, Math.ceil(o.probeIntervalMs / 1000));
  const localClock = o.clock === 'local';

  const maintenance = setInterval(() => {
    const now = Date.now();
    memory.sweep(now);
    for (const [k, e] of blocks) if (e.until <= now) blocks.delete(k);
  }, 1_000);
  maintenance.unref?.();

  function plan(tierName: string | undefined, names: readonly string[]): Plan {
    // Callers often pass the same (frozen) array every time: look it up by identity first, by content second.
    let byTier = plansByArray.get(names);
    const hit = byTier?.get(tierName ?? '');
    if (hit) return hit;
    const id = `${tierName ?? ''}\u0000${names.join('\u0000')}`;
    const cached = plans.get(id) ?? makePlan(tierName, names);
    if (plans.size < 1_000) plans.set(id, cached);
    // Only frozen arrays are remembered by identity: a fresh literal per request would churn the WeakMap.
    if (Object.isFrozen(names)) {
      if (!byTier) plansByArray.set(names, (byTier = new Map()));
      if (byTier.size < 100) byTier.set(tierName ?? '', cached);
    }
    return cached;
  }

  function makePlan(tierName: string | undefined, names: readonly string[]): Plan {
    const tier = tiers.resolve(tierName);
    if (names.length === 0) throw new UnknownTierError('a check needs at least one policy');
    const policies = names.map((n) => {
      const p = tier.policies.get(n);
      if (!p) throw new UnknownTierError(`policy '${n}' is not defined (known: ${tiers.policyNames.join(', ')})`);
      return p;
    });
    if (new Set(names).size !== names.length) throw new UnknownTierError(`policy listed twice in ${names.join(', ')}`);
    const args = policies.flatMap((p) => [ALGORITHM_CODE[p.algorithm], p.limit, p.windowMs, p.cost, p.blockMs]);
    const made: Plan = {
      tier,
      policies,
      suffixes: policies.map((p) => `:${p.name}`),
      names: policies.map((p) => p.name),
      args,
      outage: outagePlan(policies),
    };
    return made;
  }

  function outagePlan(policies: readonly Policy[]): Outage {
    if (policies.some((p) => p.onStoreUnavailable === 'closed')) return CLOSED;
    const index: number[] = [];
    policies.forEach((p, i) => {
      if (p.onStoreUnavailable === 'fallback') index.push(i);
    });
    if (index.length === 0) {
      // Shared by every decision of this plan during an outage, so frozen.
      const states = policies.map((p) =>
        Object.freeze({
          policy: p.name,
          algorithm: p.algorithm,
          limit: p.limit,
          windowSec: p.windowMs / 1000,
          remaining: p.limit,
          resetMs: p.windowMs,
          retryAfterMs: 0,
          limited: false,
        }),
      );
      return { mode: 'open', states: Object.freeze(states) };
    }
    const fallback = index.map((i) => policies[i]!);
    return {
      mode: 'fallback',
      index,
      policies: fallback,
      suffixes: fallback.map((p) => `:${p.name}`),
      args: fallback.flatMap((p) => [
        ALGORITHM_CODE[p.algorithm],
        Math.ceil(p.limit * o.fallbackShare),
        p.windowMs,
        p.cost,
        p.blockMs,
      ]),
    };
  }

  function argsWithCost(
    base: readonly number[],
    policies: readonly Policy[],
    cost: CheckInput['cost'],
  ): readonly number[] {
    if (cost === undefined) return base;
    const args = base.slice();
    policies.forEach((p, i) => {
      const c = typeof cost === 'number' ? cost : (cost[p.name] ?? p.cost);
      if (!Number.isInteger(c) || c < 0 || c > 1e9)
        throw new InvalidOptionsError('cost', `must be an integer between 0 and 1e9, got ${String(c)}`);
      args[i * 5 + 3] = c;
    });
    return args;
  }

  function build(
    p: Plan,
    key: string,
    reply: readonly number[],
    source: DecisionSource,
    policies: readonly Policy[],
    args: readonly number[],
  ): Decision {
    const states: PolicyState[] = [];
    const violated: PolicyState[] = [];
    let retryMs = 0;
    for (let i = 0; i < policies.length; i++) {
      const pol = policies[i]!;
      const r = 2 + i * 4;
      const limited = reply[r + 3] === 1;
      const retry = Number(reply[r + 2]);
      const state: PolicyState = {
        policy: pol.name,
        algorithm: pol.algorithm,
        limit: args[i * 5 + 1]!,
        windowSec: pol.windowMs / 1000,
        remaining: Number(reply[r]),
        resetMs: limited ? retry : Number(reply[r + 1]),
        retryAfterMs: limited ? retry : 0,
        limited,
      };
      states.push(state);
      if (limited) {
        violated.push(state);
        if (retry > retryMs) retryMs = retry;
      }
    }
    const allowed = reply[0] === 1;
    return {
      allowed,
      outcome: allowed ? 'allowed' : 'limited',
      source,
      tier: p.tier,
      key,
      policies: states,
      violated,
      nowMs: Number(reply[1]),
      retryAfterSec: allowed ? 0 : Math.max(1, Math.ceil(retryMs / 1000)),
    };
  }

  // Memory and the fallback keep one counter per policy: `<base>:<policy>`.
  function policyKeys(p: Plan, base: string): string[] {
    const keys = new Array<string>(p.suffixes.length);
    for (let i = 0; i < keys.length; i++) keys[i] = base + p.suffixes[i]!;
    return keys;
  }

  function remember(p: Plan, base: string, decision: Decision, args: readonly number[]): void {
    // Only a policy with nothing left rejects every later request, whatever its cost. The same request is
    // rejected until the last of them could admit again.
    let wait = 0;
    const states = decision.policies;
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!;
      if (s.limited && s.remaining <= 0 && args[i * 5 + 3]! >= 1 && s.retryAfterMs > wait) wait = s.retryAfterMs;
    }
    if (wait === 0) return;
    const at = Date.now();
    // A principal blocked again moves to the end of the eviction order; only a new one can evict the oldest.
    if (!blocks.delete(base) && blocks.size >= blockCap) blocks.delete(blocks.keys().next().value!);
    blocks.set(base, { until: at + wait, at, tier: p.tier, names: p.names, decision });
  }

  function sameNames(a: readonly string[], b: readonly string[]): boolean {
    if (a === b) return true;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function fromBlock(p: Plan, base: string): Decision | undefined {
    const e = blocks.get(base);
    if (e === undefined) return undefined;
    const now = Date.now();
    if (e.until <= now) {
      blocks.delete(base);
      return undefined;
    }
    // Only the request that was rejected: a tier change (an upgrade since the rejection) or another
    // policy list is asked of Redis again.
    if (e.tier !== p.tier || !sameNames(e.names, p.names)) return undefined;
    const prior = e.decision;
    const elapsed = now - e.at;
    const states = prior.policies.map((s) => ({
      ...s,
      resetMs: Math.max(0, s.resetMs - elapsed),
      retryAfterMs: s.limited ? Math.max(1, s.retryAfterMs - elapsed) : 0,
    }));
    const violated = states.filter((s) => s.limited);
    const retryMs = Math.max(...violated.map((s) => s.retryAfterMs));
    return {
      ...prior,
      source: 'local-block',
      policies: states,
      violated,
      nowMs: prior.nowMs + elapsed,
      retryAfterSec: Math.max(1, Math.ceil(retryMs / 1000)),
    };
  }

  // Per request only what depends on the request: the keys, and the costs when the request sets them.
  function degraded(p: Plan, key: string, base: string, args: readonly number[]): Decision {
    const now = Date.now();
    const out = p.outage;
    if (out.mode === 'closed') {
      return {
        allowed: false,
        outcome: 'store-unavailable',
        source: 'none',
        tier: p.tier,
        key,
        policies: NO_STATES,
        violated: NO_STATES,
        nowMs: now,
        retryAfterSec: closedRetrySec,
      };
    }
    if (out.mode === 'open') {
      return {
        allowed: true,
        outcome: 'allowed',
        source: 'none',
        tier: p.tier,
        key,
        policies: out.states,
        violated: NO_STATES,
        nowMs: now,
        retryAfterSec: 0,
      };
    }
    const n = out.index.length;
    const keys = new Array<string>(n);
    for (let j = 0; j < n; j++) keys[j] = base + out.suffixes[j]!;
    let fargs = out.args;
    if (args !== p.args) {
      const patched = out.args.slice();
      for (let j = 0; j < n; j++) patched[j * 5 + 3] = args[out.index[j]! * 5 + 3]!;
      fargs = patched;
    }
    return build(p, key, memory.decide(keys, fargs, now), 'fallback', out.policies, fargs);
  }

  function finish(p: Plan, decision: Decision): Decision {
    if (counter && decision.outcome === 'limited')
      for (const v of decision.violated) counter.inc({ tier: p.tier.name, policy: v.policy });
    return decision;
  }

  function baseOf(key: unknown): string {
    if (typeof key !== 'string' || key.length === 0) throw new InvalidOptionsError('key', 'must be a non-empty string');
    return `${o.prefix}${KEY_VERSION}{${escapeKey(key)}}`;
  }

  function stateInput(input: string | StateInput): StateInput {
    if (typeof input === 'string') return { key: input };
    if (typeof input !== 'object' || input === null) throw new InvalidOptionsError('key', 'must be a non-empty string');
    return input;
  }

  // Per policy, with the same arithmetic as a decision: remaining and reset at cost 0, limited and the wait at the policy's cost.
  function readState(
    p: Plan,
    key: string,
    source: LimitState['source'],
    store: MemoryStore,
    keys: readonly string[],
    args: readonly number[],
    now: number,
  ): LimitState {
    const policies: PolicyState[] = [];
    for (let i = 0; i < p.policies.length; i++) {
      const pol = p.policies[i]!;
      const one = args.slice(i * 5, i * 5 + 5);
      const cost = one[3]!;
      one[3] = 0;
      const idle = store.decide([keys[i]!], one, now, false);
      one[3] = cost;
      const next = store.decide([keys[i]!], one, now, false);
      const limited = idle[5] === 1 || next[5] === 1;
      const retry = limited ? Number(idle[5] === 1 ? idle[4] : next[4]) : 0;
      policies.push({
        policy: pol.name,
        algorithm: pol.algorithm,
        limit: one[1]!,
        windowSec: pol.windowMs / 1000,
        remaining: Number(idle[2]),
        resetMs: limited ? retry : Number(idle[3]),
        retryAfterMs: retry,
        limited,
      });
    }
    return { key, tier: p.tier, source, nowMs: now, policies };
  }

  // A Redis value (`<end>;name=state;...`, see lua.ts) loaded into a scratch memory store, so that one arithmetic evaluates both.
  /** A store holding the policy states PEEK_SCRIPT read (4 fields per policy: b, s, c, p), to be evaluated like a decision. */
  function fromRedisFields(p: Plan, reply: readonly unknown[]): { store: MemoryStore; keys: string[] } {
    const store = new MemoryStore({ maxKeys: p.names.length });
    const keys = p.names.map((_, i) => String(i));
    const num = (v: unknown) => (v === '' || v === null || v === undefined || v === false ? NaN : Number(v));
    const now = Number(reply[0]);
    for (let i = 0; i < keys.length; i++) {
      const at = 1 + i * 4;
      const until = num(reply[at]);
      const s = num(reply[at + 1]);
      if (until > now) store.load(keys[i]!, until, -1, 0, Infinity);
      else if (!Number.isNaN(s)) store.load(keys[i]!, s, num(reply[at + 2]) || 0, num(reply[at + 3]) || 0, Infinity);
    }
    return { store, keys };
  }

  function refundArgv(p: Plan, args: readonly number[]): number[] {
    const out: number[] = [];
    for (let i = 0; i < p.names.length; i++)
      out.push(args[i * 5]!, args[i * 5 + 1]!, args[i * 5 + 2]!, args[i * 5 + 3]!);
    return out;
  }

  let closed = false;
  const limiter: Limiter = {
    tiers,
    get storeAvailable() {
      return redis ? redis.isAvailable : true;
    },
    check(input: CheckInput): Promise<Decision> {
      let p: Plan;
      let base: string;
      let args: readonly number[];
      try {
        if (typeof input?.key !== 'string' || input.key.length === 0)
          throw new InvalidOptionsError('key', 'must be a non-empty string');
        p = plan(input.tier, input.policies ?? defaultPolicies);
        // Redis and the block list hold all of a principal's policies under `base`; memory keys each policy.
        base = `${o.prefix}${KEY_VERSION}{${escapeKey(input.key)}}`;
        args = argsWithCost(p.args, p.policies, input.cost);
      } catch (error) {
        return Promise.reject(error);
      }
      const local = o.localBlock && blocks.size > 0 ? fromBlock(p, base) : undefined;
      if (local) return Promise.resolve(finish(p, local));
      if (!redis)
        return Promise.resolve(
          finish(
            p,
            build(p, input.key, memory.decide(policyKeys(p, base), args, Date.now()), 'memory', p.policies, args),
          ),
        );
      if (!redis.isAvailable) return Promise.resolve(finish(p, degraded(p, input.key, base, args)));
      return new Promise((resolve) => {
        redis.run(policyKeys(p, base), args, localClock ? Date.now() : 0, (error, reply) => {
          const decision = error
            ? degraded(p, input.key, base, args)
            : build(p, input.key, reply!, 'redis', p.policies, args);
          if (o.localBlock && decision.outcome === 'limited' && decision.source === 'redis')
            remember(p, base, decision, args);
          resolve(finish(p, decision));
        });
      });
    },
    async get(input) {
      const q = stateInput(input);
      const base = baseOf(q.key);
      const p = plan(q.tier, q.policies ?? tiers.policyNames);
      if (!redis || !redis.isAvailable) {
        const fallback = redis !== undefined;
        const args =
          fallback && p.outage.mode === 'fallback'
            ? p.policies.flatMap((pol) => [
                ALGORITHM_CODE[pol.algorithm],
                Math.ceil(pol.limit * o.fallbackShare),
                pol.windowMs,
                pol.cost,
                pol.blockMs,
              ])
            : p.args;
        return readState(p, q.key, fallback ? 'fallback' : 'memory', memory, policyKeys(p, base), args, Date.now());
      }
      const reply = (await redis.script(PEEK, policyKeys(p, base), [0])) as unknown[];
      const { store, keys } = fromRedisFields(p, reply);
      return readState(p, q.key, 'redis', store, keys, p.args, Number(reply[0]));
    },
    async refund(input, cost) {
      const r: RefundInput =
        typeof input === 'string' ? { key: input, ...(cost === undefined ? {} : { cost }) } : input;
      if (typeof r !== 'object' || r === null) throw new InvalidOptionsError('key', 'must be a non-empty string');
      const base = baseOf(r.key);
      const p = plan(r.tier, r.policies ?? defaultPolicies);
      const args = argsWithCost(p.args, p.policies, r.cost);
      if (r.at !== undefined && !(Number.isFinite(r.at) && r.at >= 0))
        throw new InvalidOptionsError('at', 'must be an epoch time in milliseconds');
      if (r.source === 'local-block' || r.source === 'none') return;
      // Capacity given back: the same request may pass again, so it is no longer answered from the block list.
      blocks.delete(base);
      const inMemory =
        !redis || r.source === 'memory' || r.source === 'fallback' || (r.source === undefined && !redis.isAvailable);
      if (inMemory) {
        const now = Date.now();
        // Outage counters hold the scaled limit (fallbackShare), which sets a GCRA step.
        const margs =
          redis && p.outage.mode === 'fallback'
            ? args.map((v, i) => (i % 5 === 1 ? Math.ceil(v * o.fallbackShare) : v))
            : args;
        memory.refund(policyKeys(p, base), margs, r.at ?? now, now);
        return;
      }
      await redis.script(REFUND, policyKeys(p, base), [0, r.at ?? 0, ...refundArgv(p, args)]);
    },
    async reset(input) {
      const q = stateInput(input);
      const base = baseOf(q.key);
      const names = q.policies ?? tiers.policyNames;
      if (q.policies !== undefined) plan(undefined, names);
      blocks.delete(base);
      memory.remove(names.map((n) => `${base}:${n}`));
      if (redis)
        await redis.script(
          RESET,
          names.map((n) => `${base}:${n}`),
          [],
        );
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(maintenance);
      memory.reset();
      blocks.clear();
      await redis?.close();
    },
  };
  return limiter;
}
