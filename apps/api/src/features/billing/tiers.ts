// The business model in one place: what each tier may do and how long its history is kept. The rate limiter's table
// (API_TIERS in rate-limit.ts), GET /subscription, the history query and the retention job all derive from it.

export const TIER_NAMES = ['free', 'pro', 'enterprise'] as const;
export type Tier = (typeof TIER_NAMES)[number];

/** The limits of one tier. */
export interface TierPlan {
  /** General API requests per minute. */
  requestsPerMinute: number;
  /** Workflow analyses per hour (the expensive policy; the one that answers 429 with an upgrade prompt). */
  analysesPerHour: number;
  /** Days of analysis history that stay visible and stored; null = kept without limit. */
  retentionDays: number | null;
}

/** free 20/min + 10/h + 7 days, pro 100/min + 100/h + 90 days, enterprise 500/min + 1000/h + unlimited history. */
export const TIERS: Readonly<Record<Tier, Readonly<TierPlan>>> = Object.freeze({
  free: Object.freeze({ requestsPerMinute: 20, analysesPerHour: 10, retentionDays: 7 }),
  pro: Object.freeze({ requestsPerMinute: 100, analysesPerHour: 100, retentionDays: 90 }),
  enterprise: Object.freeze({ requestsPerMinute: 500, analysesPerHour: 1000, retentionDays: null }),
});

export function isTier(value: unknown): value is Tier {
  return typeof value === 'string' && (TIER_NAMES as readonly string[]).includes(value);
}

/** Days of history a tier keeps, null for unlimited (unknown values count as free: never show more than was paid for). */
export function retentionDays(tier: string): number | null {
  return (isTier(tier) ? TIERS[tier] : TIERS.free).retentionDays;
}

/**
 * The same mapping as a SQL expression over a tier expression (NULL = unlimited), generated from TIERS so that SQL
 * and TypeScript cannot disagree. Only constants from TIERS are interpolated, never input.
 */
export function retentionDaysSql(tierExpression: string): string {
  const days = (t: Tier) => (TIERS[t].retentionDays === null ? 'NULL::int' : String(TIERS[t].retentionDays));
  const cases = TIER_NAMES.filter((t) => t !== 'free')
    .map((t) => `WHEN '${t}' THEN ${days(t)}`)
    .join(' ');
  return `(CASE ${tierExpression} ${cases} ELSE ${days('free')} END)`;
}

/** The oldest visible `created_at` for a tier expression: now() minus its retention, '-infinity' when unlimited. */
export function retentionCutoffSql(tierExpression: string): string {
  return `COALESCE(now() - make_interval(days => ${retentionDaysSql(tierExpression)}), '-infinity'::timestamptz)`;
}

/** Stripe subscription statuses (the CHECK constraint of stripe_customers.status, plus our 'none'). */
export const SUBSCRIPTION_STATUSES = [
  'none',
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'canceled',
  'unpaid',
  'paused',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export function isSubscriptionStatus(value: unknown): value is SubscriptionStatus {
  return typeof value === 'string' && (SUBSCRIPTION_STATUSES as readonly string[]).includes(value);
}

/**
 * Whether a subscription in `status` grants its price's tier at `now`. past_due keeps the tier until `graceUntil`
 * (set when the subscription became past_due); incomplete, incomplete_expired, canceled, unpaid and paused do not.
 */
export function isEntitled(status: string, graceUntil: Date | null, now: Date = new Date()): boolean {
  if (status === 'active' || status === 'trialing') return true;
  if (status === 'past_due') return graceUntil !== null && graceUntil.getTime() > now.getTime();
  return false;
}

/** The tier a location is on: the price's tier while entitled, else free. */
export function effectiveTier(planTier: string, status: string, graceUntil: Date | null, now: Date = new Date()): Tier {
  return isTier(planTier) && isEntitled(status, graceUntil, now) ? planTier : 'free';
}

/** SQL twin of `effectiveTier` over a stripe_customers alias (null row: free). */
export function effectiveTierSql(alias: string): string {
  return `(CASE WHEN ${alias}.status IN ('active', 'trialing') OR (${alias}.status = 'past_due' AND ${alias}.grace_until > now()) THEN ${alias}.tier ELSE 'free' END)`;
}
