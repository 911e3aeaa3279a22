import { defineTiers, tieredRateLimit, type RateLimitMiddleware } from '@org/tiered-rate-limit';
import { rateLimitAnswer } from './error-catalog.js';

/** Deliveries per minute accepted from one client address on `/webhooks/*`, whatever their signature. */
export const WEBHOOK_LIMIT_PER_MINUTE = 1_000;

const WEBHOOK_TIERS = defineTiers({
  webhooks: { label: 'Webhooks', policies: { deliveries: { limit: WEBHOOK_LIMIT_PER_MINUTE, window: '1m' } } },
});

/**
 * The cap of the webhook endpoints (`/webhooks/stripe`, `/webhooks/ghl`). They are authenticated by their signature,
 * not by a session, so they stay out of the API's tiered limiter (anonymous callers share the free tier's 20 per
 * minute there, which Stripe's bursts exceed). This cap only bounds a flood: per client address, per instance, in
 * memory, far above any provider's delivery rate, so junk from a shared address cannot starve signed deliveries.
 */
export function createWebhookRateLimit(): RateLimitMiddleware {
  return tieredRateLimit({ tiers: WEBHOOK_TIERS, headers: false, upgradeUrl: null, handler: rateLimitAnswer });
}
