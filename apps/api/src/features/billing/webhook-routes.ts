import express, { Router } from 'express';
import type { Billing } from './billing.js';
import { ROUTER_OPTIONS } from '../../http/routing.js';

/** Stripe's events are small; this leaves room for large subscription objects with many items. */
const WEBHOOK_BODY_LIMIT = '512kb';

/**
 * POST /webhooks/stripe. Mounted above the JSON parser: the signature covers the exact bytes, so the body stays raw.
 * 2xx for every verified event (duplicates and stale ones too: Stripe must stop retrying them); 400 for a bad
 * signature (nothing written); 5xx only when the database failed, so that Stripe retries.
 */
export function stripeWebhookRouter(billing: Billing): Router {
  const router = Router(ROUTER_OPTIONS);
  router.post('/webhooks/stripe', express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const header = req.headers['stripe-signature'];
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // A bad signature throws a BillingError the error mapper answers with 400; nothing is written.
    const event = billing.verify(body, typeof header === 'string' ? header : undefined);
    const result = await billing.process(event);
    res.json({ success: true, data: { received: true, eventId: event.id, outcome: result.outcome } });
  });
  return router;
}
