// Webhooks are authenticated by their signature, not limited as anonymous API clients: a burst of signed Stripe
// deliveries from one address all succeed, and junk from the same address does not starve them. Over HTTP against
// src/main.ts.
import { createHmac } from 'node:crypto';
import { hasSharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecurityApp, type SecurityApp } from '../support/security-app.js';
import { TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();

/** A Stripe event signed exactly as Stripe signs it (`t=…,v1=HMAC-SHA256(secret, "t.payload")`). */
function signedEvent(id: string): { body: string; signature: string } {
  const t = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'customer.created',
    created: t,
    data: { object: { id: `cus_${id}`, object: 'customer' } },
  });
  const v1 = createHmac('sha256', TEST_SECRETS.stripeWebhookSecret).update(`${t}.${body}`).digest('hex');
  return { body, signature: `t=${t},v1=${v1}` };
}

describe.skipIf(!pgUp)('webhooks are not starved by the API rate limiter', () => {
  let app: SecurityApp;
  beforeAll(async () => {
    app = await startSecurityApp('sec_webhooks');
  }, 120_000);
  afterAll(async () => app?.stop());

  const deliver = (body: string, signature: string) =>
    fetch(`${app.base}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': signature, 'content-type': 'application/json' },
      body,
    });

  it('30 junk requests, then 200 signed deliveries within a minute from the same address: every signed one is 2xx', async () => {
    // Junk first, from the same address: more than the anonymous API budget (20 per minute).
    for (let i = 0; i < 20; i++) expect((await deliver('{}', 't=1,v1=00')).status).toBe(400);
    for (let i = 0; i < 10; i++)
      expect([401, 503]).toContain((await fetch(`${app.base}/webhooks/ghl`, { method: 'POST', body: '{}' })).status);
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const { body, signature } = signedEvent(`evt_burst_${batch}_${i}`);
          return deliver(body, signature).then(async (r) => (await r.arrayBuffer(), r.status));
        }),
      );
      statuses.push(...answers);
    }
    expect(statuses.filter((s) => s < 200 || s >= 300)).toEqual([]);
    expect(statuses).toHaveLength(200);
    // The same address is still limited as an anonymous API client (free tier: 20 per minute) everywhere else.
    const api = [];
    for (let i = 0; i < 21; i++) api.push((await fetch(`${app.base}/api/workflows`)).status);
    expect(api).toContain(429);
  }, 90_000);
});
