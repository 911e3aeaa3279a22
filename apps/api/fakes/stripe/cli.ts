// Demo mode: `pnpm --filter api fake-stripe` runs the fake Stripe API on 127.0.0.1, then start the app with
// STRIPE_API_BASE_URL pointing at it. Opening a checkout URL completes the payment: the fake delivers the signed
// webhooks to the app and redirects to the success URL.
import { startFakeStripe } from './server.js';

const port = Number(process.env.FAKE_STRIPE_PORT ?? 12111);
const webhookUrl =
  process.env.FAKE_STRIPE_WEBHOOK_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}/webhooks/stripe`;
const secret = (process.env.STRIPE_WEBHOOK_SECRET ?? 'whsec_development').split(',')[0]!.trim();

const fake = await startFakeStripe({ port, webhook: { url: webhookUrl, secret } });
console.warn(
  [
    `fake Stripe listening on ${fake.url}`,
    `start the API with: STRIPE_API_BASE_URL=${fake.url} STRIPE_PRICE_PRO=price_demo_pro STRIPE_PRICE_ENTERPRISE=price_demo_enterprise`,
    `webhooks go to ${webhookUrl} signed with STRIPE_WEBHOOK_SECRET (default whsec_development)`,
  ].join('\n'),
);
const stop = () => void fake.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
