// Billing links only customers this server created: a checkout made outside the API (a Payment Link or a Pricing
// Table, where anyone sets client_reference_id) naming another location never becomes that location's customer. The
// real Stripe SDK in src/main.ts against the repository's fake Stripe; the attack is what a Payment Link produces.
import { hasSharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../../fakes/stripe/server.js';
import { DEMO_LOCATION, startSecurityApp, type SecurityApp } from '../support/security-app.js';
import { TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const PRICE_PRO = 'price_sec_pro';

describe.skipIf(!pgUp)('cross-tenant customer linking through client_reference_id', () => {
  let stripe: FakeStripe;
  let app: SecurityApp;
  let cookie: string;
  const stripeApi = (path: string, form: Record<string, string>) =>
    fetch(`${stripe.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_SECRETS.stripeSecretKey}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form),
    }).then((r) => r.json() as Promise<{ id: string }>);
  const subscription = async () =>
    (
      (await (await fetch(`${app.base}/api/subscription`, { headers: { cookie } })).json()) as {
        data: { tier: string; status: string };
      }
    ).data;

  beforeAll(async () => {
    stripe = await startFakeStripe({ prices: [PRICE_PRO] });
    app = await startSecurityApp('sec_billing_link', {
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SECRET_KEY: TEST_SECRETS.stripeSecretKey,
      STRIPE_PRICE_PRO: PRICE_PRO,
    });
    cookie = await app.login();
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await stripe?.close();
  });

  it("an outside checkout naming the victim's location is not linked to it, and grants it nothing", async () => {
    // The attacker pays through a Payment Link with ?client_reference_id=<victim location>: their own customer.
    const attacker = await stripeApi('/v1/customers', { email: 'attacker@example.test' });
    const session = await stripeApi('/v1/checkout/sessions', {
      customer: attacker.id,
      mode: 'subscription',
      client_reference_id: DEMO_LOCATION,
      'line_items[0][price]': PRICE_PRO,
      'line_items[0][quantity]': '1',
      'subscription_data[metadata][location_id]': DEMO_LOCATION,
      success_url: 'https://example.test/ok',
    });
    const { deliveries } = await stripe.completeCheckout(session.id, {
      url: `${app.base}/webhooks/stripe`,
      secret: TEST_SECRETS.stripeWebhookSecret,
    });
    // Acknowledged (Stripe must stop retrying), but nothing linked.
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    const { rows } = await app.pg.pool.query('SELECT customer_id FROM stripe_customers WHERE location_id = $1', [
      DEMO_LOCATION,
    ]);
    expect(rows).toEqual([]);
    expect(await subscription()).toMatchObject({ tier: 'free', status: 'none' });
  });

  it("the location's own checkout (a customer the API created) still links and upgrades", async () => {
    const checkout = await fetch(`${app.base}/api/subscription/checkout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{"tier":"pro"}',
    });
    expect(checkout.status).toBe(200);
    const { sessionId } = ((await checkout.json()) as { data: { sessionId: string } }).data;
    const { deliveries } = await stripe.completeCheckout(sessionId, {
      url: `${app.base}/webhooks/stripe`,
      secret: TEST_SECRETS.stripeWebhookSecret,
    });
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    expect(await subscription()).toMatchObject({ tier: 'pro', status: 'active' });
  });
});
