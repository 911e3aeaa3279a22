import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { parseStripeForm, stripeSignatureHeader } from './server.js';

describe('fake Stripe helpers', () => {
  it('parses bracketed form keys into nested objects and arrays, as Stripe does', () => {
    const body = new URLSearchParams({
      mode: 'subscription',
      'line_items[0][price]': 'price_1',
      'line_items[0][quantity]': '1',
      'metadata[location_id]': 'loc 1&2',
      'subscription_data[metadata][account_id]': 'acc',
    }).toString();
    expect(parseStripeForm(body)).toEqual({
      mode: 'subscription',
      line_items: [{ price: 'price_1', quantity: '1' }],
      metadata: { location_id: 'loc 1&2' },
      subscription_data: { metadata: { account_id: 'acc' } },
    });
  });

  it('signs webhooks exactly as Stripe: the real SDK verifies them, and its own test header matches ours', () => {
    const payload = JSON.stringify(
      { id: 'evt_1', object: 'event', type: 'invoice.paid', data: { object: {} } },
      null,
      2,
    );
    const t = Math.floor(Date.now() / 1000);
    const header = stripeSignatureHeader(payload, 'whsec_x', t);
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', 'whsec_x').update(`${t}.${payload}`).digest('hex')}`);
    const stripe = new Stripe('sk_test_x');
    expect(header).toBe(stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_x', timestamp: t }));
    expect(stripe.webhooks.constructEvent(payload, header, 'whsec_x', 300).id).toBe('evt_1');
  });
});
