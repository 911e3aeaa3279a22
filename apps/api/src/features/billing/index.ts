export { createBilling, type Billing, type BillingOptions, type SubscriptionReport } from './billing.js';
export { BillingError } from './errors.js';
export { purgeExpiredHistory, purgeProcessedEvents, startRetentionJob } from './retention.js';
export { createStripeClient, idempotencyKey } from './stripe-client.js';
export { TIERS, effectiveTier, retentionDays, type Tier, type TierPlan } from './tiers.js';
export { HANDLED_EVENT_TYPES, type BillingFaults, type BillingHooks, type WebhookOutcome } from './webhooks.js';
