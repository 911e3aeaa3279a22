// Stripe delivers events out of order, and two events of the same second cannot be ordered by their timestamps. The
// subscription handler re-fetches the subscription from Stripe instead of trusting the payload, so whatever order
// two customer.subscription.updated events arrive in, the location ends in Stripe's newest state. The real Stripe SDK
// in src/main.ts against the repository's fake Stripe, over HTTP.
import { hasSharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../../fakes/stripe/server.js';
import { startSecurityApp, type SecurityApp } from '../support/security-app.js';
import { TEST_SECRETS } from '../support/app.js';

const pgUp = await hasSharedPostgres();
const PRICE_PRO = 'price_order_pro';
const PRICE_ENTERPRISE = 'price_order_enterprise';

describe.skipIf(!pgUp)('subscription events delivered out of order', () => {
  let stripe: FakeStripe;
  let app: SecurityApp;
  let cookie: string;
  let subscriptionId: string;
  const webhook = () => ({ url: `${app.base}/webhooks/stripe`, secret: TEST_SECRETS.stripeWebhookSecret });
  const report = async () =>
    (
      (await (await fetch(`${app.base}/api/subscription`, { headers: { cookie } })).json()) as {
        data: { tier: string; planTier: string; status: string; priceId: string };
      }
    ).data;
  const outcome = (delivery: { status: number; body: string }) => (
    expect(delivery.status).toBe(200), (JSON.parse(delivery.body) as { data: { outcome: string } }).data.outcome
  );

  beforeAll(async () => {
    stripe = await startFakeStripe({ prices: [PRICE_PRO, PRICE_ENTERPRISE] });
    app = await startSecurityApp('sec_subscription_order', {
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SECRET_KEY: TEST_SECRETS.stripeSecretKey,
      STRIPE_PRICE_PRO: PRICE_PRO,
      STRIPE_PRICE_ENTERPRISE: PRICE_ENTERPRISE,
    });
    cookie = await app.login();
    const checkout = await fetch(`${app.base}/api/subscription/checkout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{"tier":"pro"}',
    });
    expect(checkout.status).toBe(200);
    const { sessionId } = ((await checkout.json()) as { data: { sessionId: string } }).data;
    const { subscription, deliveries } = await stripe.completeCheckout(sessionId, webhook());
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    subscriptionId = subscription.id as string;
    expect(await report()).toMatchObject({ tier: 'pro', status: 'active' });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await stripe?.close();
  });

  it('two updates of the same second, the newer delivered first: the location ends in the newest state (re-fetched from Stripe)', async () => {
    const second = Math.floor(Date.now() / 1000) + 5;
    // Upgraded to enterprise, then, within the same second, back to pro: Stripe's current state is pro.
    const upgrade = stripe.updateSubscription(subscriptionId, { priceId: PRICE_ENTERPRISE }, { created: second });
    const downgrade = stripe.updateSubscription(subscriptionId, { priceId: PRICE_PRO }, { created: second });
    expect(outcome(await stripe.deliver(webhook().url, webhook().secret, downgrade))).toBe('applied');
    // The older event arrives last with the same timestamp: its payload says enterprise, Stripe says pro.
    expect(outcome(await stripe.deliver(webhook().url, webhook().secret, upgrade))).toBe('applied');
    expect(await report()).toMatchObject({ tier: 'pro', planTier: 'pro', priceId: PRICE_PRO, status: 'active' });
  });

  it('an older update delivered after a newer one is stale: the newest state stays', async () => {
    const now = Math.floor(Date.now() / 1000) + 10;
    const older = stripe.updateSubscription(subscriptionId, { status: 'past_due' }, { created: now });
    const newer = stripe.updateSubscription(
      subscriptionId,
      { status: 'active', priceId: PRICE_ENTERPRISE },
      { created: now + 1 },
    );
    expect(outcome(await stripe.deliver(webhook().url, webhook().secret, newer))).toBe('applied');
    expect(outcome(await stripe.deliver(webhook().url, webhook().secret, older))).toBe('stale');
    expect(await report()).toMatchObject({ tier: 'enterprise', planTier: 'enterprise', status: 'active' });
  });
});
