import { canStartPostgres, startPostgres, type PrivatePostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../../../fakes/stripe/server.js';
import { migrate } from '../../../src/db/migrations.js';
import { locationTier } from '../../../src/features/billing/queries.js';
import { PRICE_PRO, startApp, type BillingApp, TEST_SECRETS } from '../../support/app.js';

const canStart = canStartPostgres();

describe.skipIf(!canStart)(
  'a real fault: PostgreSQL killed between recording the event and applying it (private server)',
  () => {
    let pg: PrivatePostgres;
    let fake: FakeStripe;
    let app: BillingApp;
    let killAfterRecord: string | undefined;
    let killed = false;

    beforeAll(async () => {
      // synchronous_commit on: the test asserts what a crash keeps, so commits must be durable as in production.
      pg = await startPostgres({ settings: { synchronous_commit: 'on' } });
      await migrate({ url: pg.url });
      fake = await startFakeStripe();
      app = await startApp({
        url: pg.url,
        billing: {
          stripe: fake,
          faults: {
            async afterEventRecorded(eventId) {
              if (eventId !== killAfterRecord) return;
              killAfterRecord = undefined;
              await pg.kill();
              killed = true;
            },
          },
        },
      });
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await fake?.close();
      await pg?.destroy();
    });

    it('answers 5xx, commits nothing; after the restart the redelivery applies the event once', async () => {
      await app.tenant('loc-kill');
      await app.db.query("INSERT INTO stripe_customers (location_id, customer_id) VALUES ('loc-kill', 'cus_kill')");
      const event = fake.event('customer.subscription.created', {
        id: 'sub_kill',
        object: 'subscription',
        customer: 'cus_kill',
        status: 'active',
        metadata: {},
        items: {
          object: 'list',
          data: [
            {
              id: 'si_k',
              object: 'subscription_item',
              price: { id: PRICE_PRO, object: 'price' },
              current_period_end: Math.floor(Date.now() / 1000) + 86_400,
            },
          ],
        },
      });
      killAfterRecord = event.id as string;
      const first = await fake.deliver(app.webhookUrl, TEST_SECRETS.stripeWebhookSecret, event);
      expect(killed).toBe(true);
      expect(await pg.ping(500)).toBe(false); // the server is really gone
      expect(first.status).toBeGreaterThanOrEqual(500);

      await pg.start();
      // The INSERT of the event was inside the killed transaction: crash recovery must not have kept it.
      const rows = async () =>
        Number((await app.db.read('SELECT count(*) AS n FROM stripe_events WHERE id = $1', [event.id])).rows[0]!.n);
      expect(await rows()).toBe(0);
      expect(await locationTier(app.db, 'loc-kill')).toBe('free');

      const again = await fake.deliver(app.webhookUrl, TEST_SECRETS.stripeWebhookSecret, event);
      expect(again.status).toBe(200);
      expect(JSON.parse(again.body).data.outcome).toBe('applied');
      expect(await rows()).toBe(1);
      expect(await locationTier(app.db, 'loc-kill')).toBe('pro');
      expect(app.tierChanges).toEqual([{ locationId: 'loc-kill', tier: 'pro', previous: 'free' }]);
    }, 60_000);
  },
);
