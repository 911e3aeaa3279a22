import { toMs } from './duration.js';
import { InvalidOptionsError } from './errors.js';
import type {
  Algorithm,
  DefaultTierMetadata,
  FailureMode,
  Policy,
  PolicyDefinition,
  Tier,
  TierDefinition,
  TierTable,
} from './types.js';

const algorithms: readonly Algorithm[] = ['fixed-window', 'sliding-window', 'gcra'];
const failureModes: readonly FailureMode[] = ['fallback', 'closed', 'open'];
const namePattern = /^[A-Za-z0-9_.-]{1,64}$/;

function positiveInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1e9) {
    throw new InvalidOptionsError(path, `must be an integer between 1 and 1e9, got ${String(value)}`);
  }
  return value;
}

function policyFrom(name: string, def: PolicyDefinition, path: string): Policy {
  if (typeof def !== 'object' || def === null) throw new InvalidOptionsError(path, 'must be an object');
  const algorithm = def.algorithm ?? 'fixed-window';
  if (!algorithms.includes(algorithm))
    throw new InvalidOptionsError(`${path}.algorithm`, `must be one of ${algorithms.join(', ')}`);
  const onStoreUnavailable = def.onStoreUnavailable ?? 'fallback';
  if (!failureModes.includes(onStoreUnavailable))
    throw new InvalidOptionsError(`${path}.onStoreUnavailable`, `must be one of ${failureModes.join(', ')}`);
  const cost = def.cost === undefined ? 1 : positiveInteger(def.cost, `${path}.cost`);
  return {
    name,
    limit: positiveInteger(def.limit, `${path}.limit`),
    windowMs: toMs(def.window, `${path}.window`),
    cost,
    algorithm,
    onStoreUnavailable,
    blockMs: def.blockDuration === undefined ? 0 : toMs(def.blockDuration, `${path}.blockDuration`),
  };
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Validates a tier table. Key order is the upgrade path: the first tier is the lowest (and the one
 * unauthenticated or unknown callers get), the last the highest. Throws InvalidOptionsError.
 */
export function defineTiers<N extends string>(definitions: Readonly<Record<N, TierDefinition>>): TierTable<N> {
  if (typeof definitions !== 'object' || definitions === null)
    throw new InvalidOptionsError('tiers', 'must be an object of tier definitions');
  const names = Object.keys(definitions) as N[];
  if (names.length === 0) throw new InvalidOptionsError('tiers', 'needs at least one tier');
  const tiers = new Map<string, Tier>();
  let policyNames: string[] | undefined;
  names.forEach((name, rank) => {
    if (!namePattern.test(name))
      throw new InvalidOptionsError(`tiers.${name}`, 'tier names use letters, digits, _ . - (1-64 chars)');
    const def = definitions[name];
    if (typeof def !== 'object' || def === null || typeof def.policies !== 'object' || def.policies === null) {
      throw new InvalidOptionsError(`tiers.${name}.policies`, 'must be an object of policies');
    }
    const own = Object.keys(def.policies);
    if (own.length === 0) throw new InvalidOptionsError(`tiers.${name}.policies`, 'needs at least one policy');
    for (const p of own)
      if (!namePattern.test(p))
        throw new InvalidOptionsError(
          `tiers.${name}.policies.${p}`,
          'policy names use letters, digits, _ . - (1-64 chars)',
        );
    if (policyNames === undefined) policyNames = own;
    else if (own.length !== policyNames.length || own.some((p) => !policyNames!.includes(p))) {
      throw new InvalidOptionsError(
        `tiers.${name}.policies`,
        `every tier must define the same policies (${policyNames.join(', ')}), got ${own.join(', ')}`,
      );
    }
    const policies = new Map<string, Policy>();
    for (const p of policyNames) policies.set(p, policyFrom(p, def.policies[p]!, `tiers.${name}.policies.${p}`));
    if (def.label !== undefined && (typeof def.label !== 'string' || def.label.length === 0))
      throw new InvalidOptionsError(`tiers.${name}.label`, 'must be a non-empty string');
    tiers.set(
      name,
      Object.freeze({
        name,
        label: def.label ?? capitalise(name),
        rank,
        metadata: Object.freeze({ ...(def.metadata ?? {}) }),
        policies,
      }),
    );
  });
  const ordered = names.map((n) => tiers.get(n)!);
  return Object.freeze({
    names: Object.freeze([...names]),
    policyNames: Object.freeze([...policyNames!]),
    get: (name: string) => tiers.get(name),
    resolve: (name: string | undefined | null) => (name == null ? undefined : tiers.get(name)) ?? ordered[0]!,
    next: (tier: Tier) => ordered[tier.rank + 1],
  });
}

/**
 * The SaaS table this package was built for: free 20 req/min + 10 analyses/hour (7 days of history),
 * pro 100/min + 100/hour (90 days), enterprise 500/min + 1000/hour (unlimited). `general` falls back to
 * memory while Redis is down, `analysis` (expensive) fails closed.
 */
export function defaultTiers(): TierTable<'free' | 'pro' | 'enterprise'> {
  const tier = (general: number, analysis: number, historyRetentionDays: number | null): TierDefinition => ({
    policies: {
      general: { limit: general, window: '1m' },
      analysis: { limit: analysis, window: '1h', onStoreUnavailable: 'closed' },
    },
    metadata: { historyRetentionDays } satisfies DefaultTierMetadata,
  });
  return defineTiers({ free: tier(20, 10, 7), pro: tier(100, 100, 90), enterprise: tier(500, 1000, null) });
}
