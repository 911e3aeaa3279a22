import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, stripeSignatureHeader, type FakeStripe } from '../../../fakes/stripe/server.js';
import { migrate } from '../../../src/db/migrations.js';
import { locationTier } from '../../../src/features/billing/queries.js';
import {
  PREVIOUS_WEBHOOK_SECRET,
  PRICE_ENTERPRISE,
  PRICE_PRO,
  startApp,
  type BillingApp,
  TEST_SECRETS,
} from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const SECRET = TEST_SECRETS.stripeWebhookSecret;
const now = () => Math.floor(Date.now() / 1000);

function subscription(customer: string, status: string, price: string, id = 'sub_fixed_1'): Record<string, unknown> {
  return {
    id,
    object: 'subscription',
    customer,
    status,
    metadata: {},
    items: {
      object: 'list',
      data: [
        {
          id: 'si_1',
          object: 'subscription_item',
          price: { id: price, object: 'price' },
          current_period_end: now() + 30 * 86_400,
        },
      ],
    },
  };
}

async function post(url: string, payload: string, headers: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      success: boolean;
      data?: { outcome: string };
      error?: { code: string; requestId: string };
    },
  };
}

describe.skipIf(!pgUp)('Stripe webhooks (shared PostgreSQL, real stripe SDK, fake Stripe server)', () => {
  let pg: SharedPostgres;
  let fake: FakeStripe;
  let app: BillingApp;
  const failOnce = new Set<string>();

  async function customerFor(locationId: string): Promise<string> {
    await app.tenant(locationId);
    const customer = `cus_${locationId.replace(/[^a-z0-9]/gi, '')}`;
    await app.db.query('INSERT INTO stripe_customers (location_id, customer_id) VALUES ($1, $2)', [
      locationId,
      customer,
    ]);
    return customer;
  }
  const eventRows = async (id: string) =>
    Number((await app.db.query('SELECT count(*) AS n FROM stripe_events WHERE id = $1', [id])).rows[0]!.n);

  beforeAll(async () => {
    pg = await sharedPostgres('api_billing_webhooks');
    await migrate({ url: pg.url });
    fake = await startFakeStripe({ prices: [PRICE_PRO, PRICE_ENTERPRISE] });
    app = await startApp({
      url: pg.url,
      billing: {
        stripe: fake,
        webhookSecrets: [SECRET, PREVIOUS_WEBHOOK_SECRET],
        faults: {
          afterEventRecorded(eventId) {
            if (failOnce.delete(eventId)) throw new Error('injected fault between recording and applying');
          },
        },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
    const logs = app?.logs.text() ?? '';
    for (const secret of [SECRET, PREVIOUS_WEBHOOK_SECRET, TEST_SECRETS.stripeSecretKey])
      expect(logs).not.toContain(secret);
    await pg?.cleanup();
  });

  describe('signatures: only valid ones are accepted; rejected ones write nothing', () => {
    const cases: {
      name: string;
      accepted: boolean;
      code?: string;
      build: (payload: string) => { body: string; headers: Record<string, string> };
    }[] = [
      {
        name: 'valid',
        accepted: true,
        build: (p) => ({ body: p, headers: { 'stripe-signature': stripeSignatureHeader(p, SECRET) } }),
      },
      {
        name: 'signed 299 s ago',
        accepted: true,
        build: (p) => ({ body: p, headers: { 'stripe-signature': stripeSignatureHeader(p, SECRET, now() - 299) } }),
      },
      {
        name: 'signed 301 s ago',
        accepted: false,
        code: 'STRIPE_SIGNATURE_INVALID',
        build: (p) => ({ body: p, headers: { 'stripe-signature': stripeSignatureHeader(p, SECRET, now() - 301) } }),
      },
      {
        name: 'tampered body',
        accepted: false,
        code: 'STRIPE_SIGNATURE_INVALID',
        build: (p) => ({
          body: p.replace(PRICE_PRO, PRICE_ENTERPRISE),
          headers: { 'stripe-signature': stripeSignatureHeader(p, SECRET) },
        }),
      },
      {
        name: 're-serialised JSON',
        accepted: false,
        code: 'STRIPE_SIGNATURE_INVALID',
        build: (p) => ({
          body: JSON.stringify(JSON.parse(p)),
          headers: { 'stripe-signature': stripeSignatureHeader(p, SECRET) },
        }),
      },
      {
        name: 'wrong secret',
        accepted: false,
        code: 'STRIPE_SIGNATURE_INVALID',
        build: (p) => ({
          body: p,
          headers: { 'stripe-signature': stripeSignatureHeader(p, 'whsec_attackerGuess000') },
        }),
      },
      {
        name: 'missing header',
        accepted: false,
        code: 'STRIPE_SIGNATURE_MISSING',
        build: (p) => ({ body: p, headers: {} }),
      },
      {
        name: 'rotation: a bogus v1 next to the valid one',
        accepted: true,
        build: (p) => {
          const valid = stripeSignatureHeader(p, SECRET);
          const t = valid.split(',')[0]!;
          return { body: p, headers: { 'stripe-signature': `${t},v1=${'0'.repeat(64)},${valid.split(',')[1]}` } };
        },
      },
      {
        name: 'rotation: signed with the previous secret',
        accepted: true,
        build: (p) => ({ body: p, headers: { 'stripe-signature': stripeSignatureHeader(p, PREVIOUS_WEBHOOK_SECRET) } }),
      },
      {
        name: 'rotation: signed with an unrelated third secret',
        accepted: false,
        code: 'STRIPE_SIGNATURE_INVALID',
        build: (p) => ({
          body: p,
          headers: { 'stripe-signature': stripeSignatureHeader(p, 'whsec_neverConfigured789') },
        }),
      },
    ];
    for (const [i, c] of cases.entries()) {
      it(`${c.name}: ${c.accepted ? '2xx and applied' : `400 ${c.code} and nothing written`}`, async () => {
        const locationId = `loc-sig-${i}`;
        const customer = await customerFor(locationId);
        const event = fake.event(
          'customer.subscription.created',
          subscription(customer, 'active', PRICE_PRO, `sub_sig_${i}`),
        );
        const { body, headers } = c.build(JSON.stringify(event, null, 2));
        const res = await post(app.webhookUrl, body, headers);
        if (c.accepted) {
          expect(res.status).toBe(200);
          expect(res.body.data?.outcome).toBe('applied');
          expect(await eventRows(event.id as string)).toBe(1);
          expect(await locationTier(app.db, locationId)).toBe('pro');
        } else {
          expect(res.status).toBe(400);
          expect(res.body).toEqual({
            success: false,
            error: { code: c.code, message: expect.any(String), requestId: expect.any(String) },
          });
          expect(await eventRows(event.id as string)).toBe(0);
          expect(await locationTier(app.db, locationId)).toBe('free');
          const row = (
            await app.db.query('SELECT status, last_event_created_at FROM stripe_customers WHERE location_id = $1', [
              locationId,
            ])
          ).rows[0];
          expect(row).toEqual({ status: 'none', last_event_created_at: null });
        }
      });
    }
  });

  it('the same event 20 times concurrently then 20 times in sequence: one row, one tier change, all 2xx', async () => {
    const customer = await customerFor('loc-dup');
    const event = fake.event('customer.subscription.created', subscription(customer, 'active', PRICE_PRO, 'sub_dup'));
    const deliveries = await Promise.all(Array.from({ length: 20 }, () => fake.deliver(app.webhookUrl, SECRET, event)));
    for (let i = 0; i < 20; i++) deliveries.push(await fake.deliver(app.webhookUrl, SECRET, event));
    expect(deliveries.map((d) => d.status)).toEqual(Array(40).fill(200));
    const outcomes = deliveries.map((d) => (JSON.parse(d.body) as { data: { outcome: string } }).data.outcome);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(39);
    expect(await eventRows(event.id as string)).toBe(1);
    expect(app.tierChanges.filter((c) => c.locationId === 'loc-dup')).toEqual([
      { locationId: 'loc-dup', tier: 'pro', previous: 'free' },
    ]);
    expect(
      app.events.filter((e) => e.type === 'customer.subscription.created' && e.outcome === 'duplicate').length,
    ).toBeGreaterThanOrEqual(39);
  });

  it('updated before created, deleted before updated: the newest state wins', async () => {
    const a = await customerFor('loc-order-a');
    const created = fake.event('customer.subscription.created', subscription(a, 'active', PRICE_PRO, 'sub_order_a'), {
      created: now() - 100,
    });
    const updated = fake.event(
      'customer.subscription.updated',
      subscription(a, 'active', PRICE_ENTERPRISE, 'sub_order_a'),
      { created: now() - 50 },
    );
    expect((await fake.deliver(app.webhookUrl, SECRET, updated)).status).toBe(200);
    const late = await fake.deliver(app.webhookUrl, SECRET, created);
    expect(late.status).toBe(200);
    expect(JSON.parse(late.body).data.outcome).toBe('stale');
    expect(await locationTier(app.db, 'loc-order-a')).toBe('enterprise');

    const b = await customerFor('loc-order-b');
    const upgraded = fake.event(
      'customer.subscription.updated',
      subscription(b, 'active', PRICE_ENTERPRISE, 'sub_order_b'),
      { created: now() - 50 },
    );
    const deleted = fake.event(
      'customer.subscription.deleted',
      subscription(b, 'canceled', PRICE_ENTERPRISE, 'sub_order_b'),
      { created: now() - 10 },
    );
    expect((await fake.deliver(app.webhookUrl, SECRET, deleted)).status).toBe(200);
    expect(JSON.parse((await fake.deliver(app.webhookUrl, SECRET, upgraded)).body).data.outcome).toBe('stale');
    expect(await locationTier(app.db, 'loc-order-b')).toBe('free');
    expect(
      (await app.db.query("SELECT status FROM stripe_customers WHERE location_id = 'loc-order-b'")).rows[0]!.status,
    ).toBe('canceled');
  });

  it('a failure between recording the event and applying it commits nothing; the redelivery applies it once', async () => {
    const customer = await customerFor('loc-fault');
    const event = fake.event('customer.subscription.created', subscription(customer, 'active', PRICE_PRO, 'sub_fault'));
    failOnce.add(event.id as string);
    const first = await fake.deliver(app.webhookUrl, SECRET, event);
    expect(first.status).toBe(500);
    expect(failOnce.has(event.id as string)).toBe(false); // the fault really fired
    expect(await eventRows(event.id as string)).toBe(0);
    expect(await locationTier(app.db, 'loc-fault')).toBe('free');
    expect(app.tierChanges.filter((c) => c.locationId === 'loc-fault')).toHaveLength(0);

    const again = await fake.deliver(app.webhookUrl, SECRET, event);
    expect(again.status).toBe(200);
    expect(await eventRows(event.id as string)).toBe(1);
    expect(await locationTier(app.db, 'loc-fault')).toBe('pro');
    expect(app.tierChanges.filter((c) => c.locationId === 'loc-fault')).toHaveLength(1);
  });

  it('past_due keeps the tier during the grace period; unpaid falls back to free', async () => {
    const customer = await customerFor('loc-dunning');
    await fake.deliver(
      app.webhookUrl,
      SECRET,
      fake.event('customer.subscription.created', subscription(customer, 'active', PRICE_PRO, 'sub_dun'), {
        created: now() - 30,
      }),
    );
    await fake.deliver(
      app.webhookUrl,
      SECRET,
      fake.event('customer.subscription.updated', subscription(customer, 'past_due', PRICE_PRO, 'sub_dun'), {
        created: now() - 20,
      }),
    );
    expect(await locationTier(app.db, 'loc-dunning')).toBe('pro');
    const { grace_until: graceUntil } = (
      await app.db.query("SELECT grace_until FROM stripe_customers WHERE location_id = 'loc-dunning'")
    ).rows[0]!;
    expect((graceUntil as Date).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    // The grace runs out (moved into the past by hand): the read-side rule drops the tier with no event needed.
    await app.db.query(
      "UPDATE stripe_customers SET grace_until = now() - interval '1 second' WHERE location_id = 'loc-dunning'",
    );
    expect(await locationTier(app.db, 'loc-dunning')).toBe('free');
    await app.db.query(
      "UPDATE stripe_customers SET grace_until = now() + interval '1 day' WHERE location_id = 'loc-dunning'",
    );
    await fake.deliver(
      app.webhookUrl,
      SECRET,
      fake.event('customer.subscription.updated', subscription(customer, 'unpaid', PRICE_PRO, 'sub_dun'), {
        created: now() - 10,
      }),
    );
    expect(await locationTier(app.db, 'loc-dunning')).toBe('free');
  });

  it('invoice events re-fetch the subscription from Stripe (both invoice shapes) and apply its current state', async () => {
    const customer = await customerFor('loc-invoice');
    fake.subscriptions.set('sub_inv', subscription(customer, 'past_due', PRICE_PRO, 'sub_inv'));
    const failed = fake.event('invoice.payment_failed', {
      id: 'in_1',
      object: 'invoice',
      customer,
      parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_inv' } },
    });
    expect((await fake.deliver(app.webhookUrl, SECRET, failed)).status).toBe(200);
    const row = async () =>
      (
        await app.db.query(
          "SELECT status, subscription_id, grace_until FROM stripe_customers WHERE location_id = 'loc-invoice'",
        )
      ).rows[0]!;
    expect(await row()).toMatchObject({ status: 'past_due', subscription_id: 'sub_inv' });
    expect(await locationTier(app.db, 'loc-invoice')).toBe('pro');
    fake.subscriptions.get('sub_inv')!.status = 'active';
    const paid = fake.event('invoice.paid', { id: 'in_2', object: 'invoice', customer, subscription: 'sub_inv' });
    expect((await fake.deliver(app.webhookUrl, SECRET, paid)).status).toBe(200);
    expect(await row()).toMatchObject({ status: 'active', grace_until: null });
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/subscriptions/sub_inv')).toHaveLength(2);
  });

  it('unknown event types are acknowledged and not stored', async () => {
    const event = fake.event('customer.updated', { id: 'cus_x', object: 'customer' });
    const res = await fake.deliver(app.webhookUrl, SECRET, event);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).data.outcome).toBe('ignored');
    expect(await eventRows(event.id as string)).toBe(0);
  });
});
