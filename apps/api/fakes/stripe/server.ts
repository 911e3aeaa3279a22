// A fake of the few Stripe API endpoints the app calls, for tests and demo mode (stripe-mock, a Go binary, cannot be
// installed here). It speaks what the real stripe SDK sends: form-encoded bodies with bracket keys, Idempotency-Key
// replay, Stripe-shaped errors. It also plays Stripe's webhook sender: it signs events exactly as Stripe does.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

/** A scripted failure: the next `times` matching requests answer `status` (before or after the object is created). */
export interface ScriptedFailure {
  method: 'GET' | 'POST';
  /** Path prefix, e.g. '/v1/checkout/sessions'. */
  path: string;
  status: number;
  /** @default 1 */
  times?: number;
  /** 'after' creates the object (and stores the idempotent response), then fails: a response lost on the way back. @default 'before' */
  when?: 'before' | 'after';
}

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  body: Json;
}

export interface FakeStripeOptions {
  /** Where checkout and portal URLs point (the fake's own base URL by default). */
  publicUrl?: string;
  /** Price ids the fake knows; unknown prices are refused like Stripe does. @default any price accepted */
  prices?: readonly string[];
  /** Demo mode: opening a checkout URL completes it, delivers the webhooks here and redirects to success_url. */
  webhook?: { url: string; secret: string };
  /** @default 0 (a free port) */
  port?: number;
}

/** Parses `a[b][0][c]=v` form bodies into nested objects (arrays for numeric keys), as Stripe's API does. */
export function parseStripeForm(body: string): Json {
  const root: Json = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node: Record<string, unknown> | unknown[] = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]!);
      const container = node as Record<string, unknown>;
      if (last) {
        container[part] = value;
        return;
      }
      container[part] ??= nextIsIndex ? [] : {};
      node = container[part] as Record<string, unknown>;
    });
  }
  return root;
}

/** The `Stripe-Signature` header for `payload`: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload" keyed by the secret>`. */
export function stripeSignatureHeader(
  payload: string,
  secret: string,
  timestampSeconds = Math.floor(Date.now() / 1000),
): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Result of a webhook delivery. */
export interface Delivery {
  event: Json;
  status: number;
  body: string;
}

export interface FakeStripe {
  /** http://127.0.0.1:<port>: pass as STRIPE_API_BASE_URL. */
  readonly url: string;
  readonly server: Server;
  readonly customers: Map<string, Json>;
  readonly checkoutSessions: Map<string, Json>;
  readonly portalSessions: Map<string, Json>;
  readonly subscriptions: Map<string, Json>;
  /** Objects created (idempotent replays are not counted), by kind. */
  readonly creations: { customers: number; checkoutSessions: number; portalSessions: number };
  readonly requests: RecordedRequest[];
  failNext(failure: ScriptedFailure): void;
  /** Demo mode target (see `FakeStripeOptions.webhook`), settable once the app's port is known. */
  setWebhook(target: { url: string; secret: string } | undefined): void;
  /** A Stripe event envelope around `object` (`created` in seconds, default now). */
  event(type: string, object: Json, options?: { created?: number; id?: string }): Json;
  /** Signs `event` (pretty-printed JSON, as Stripe sends it) and POSTs it to `url`. */
  deliver(url: string, secret: string, event: Json, options?: { timestamp?: number }): Promise<Delivery>;
  /**
   * Completes a checkout session as the customer paying would: creates the subscription (active, the session's
   * price, its subscription_data.metadata) and delivers checkout.session.completed then customer.subscription.created.
   */
  completeCheckout(
    sessionId: string,
    webhook: { url: string; secret: string },
  ): Promise<{ subscription: Json; deliveries: Delivery[] }>;
  /** Changes a subscription (status, price) and returns the customer.subscription.updated event (not delivered). */
  updateSubscription(
    subscriptionId: string,
    change: { status?: string; priceId?: string; currentPeriodEnd?: number },
    options?: { created?: number },
  ): Json;
  /** Cancels a subscription and returns the customer.subscription.deleted event (not delivered). */
  cancelSubscription(subscriptionId: string, options?: { created?: number }): Json;
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const customers = new Map<string, Json>();
  const checkoutSessions = new Map<string, Json>();
  const portalSessions = new Map<string, Json>();
  const subscriptions = new Map<string, Json>();
  const creations = { customers: 0, checkoutSessions: 0, portalSessions: 0 };
  const requests: RecordedRequest[] = [];
  const failures: (ScriptedFailure & { left: number })[] = [];
  // Idempotency-Key -> the request body's hash and the response first given, replayed for 24 h by real Stripe.
  const idempotent = new Map<string, { bodyHash: string; path: string; status: number; body: Json }>();
  let publicUrl = options.publicUrl ?? '';
  let webhookTarget = options.webhook;

  const send = (res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req'), ...headers });
    res.end(JSON.stringify(body));
  };
  const stripeError = (type: string, message: string, extra: Json = {}) => ({ error: { type, message, ...extra } });

  const subscriptionObject = (customer: string, priceId: string, metadata: Json): Json => {
    const periodEnd = nowSeconds() + 30 * 86_400;
    return {
      id: id('sub'),
      object: 'subscription',
      customer,
      status: 'active',
      metadata,
      cancel_at_period_end: false,
      created: nowSeconds(),
      items: {
        object: 'list',
        data: [
          {
            id: id('si'),
            object: 'subscription_item',
            price: { id: priceId, object: 'price' },
            quantity: 1,
            current_period_end: periodEnd,
          },
        ],
      },
    };
  };

  // Each creator returns [status, body] for a POST; idempotency is handled around it.
  const creators: Record<string, (body: Json) => [number, Json]> = {
    '/v1/customers': (body) => {
      const customer = {
        id: id('cus'),
        object: 'customer',
        email: body.email ?? null,
        name: body.name ?? null,
        metadata: body.metadata ?? {},
        created: nowSeconds(),
      };
      customers.set(customer.id, customer);
      creations.customers++;
      return [200, customer];
    },
    '/v1/checkout/sessions': (body) => {
      const customer = body.customer as string | undefined;
      if (!customer || !customers.has(customer))
        return [
          400,
          stripeError('invalid_request_error', `No such customer: '${customer}'`, {
            code: 'resource_missing',
            param: 'customer',
          }),
        ];
      const items = (body.line_items as Json[] | undefined) ?? [];
      const price = items[0]?.price as string | undefined;
      if (!price || (options.prices && !options.prices.includes(price)))
        return [
          400,
          stripeError('invalid_request_error', `No such price: '${price}'`, {
            code: 'resource_missing',
            param: 'line_items[0][price]',
          }),
        ];
      if (body.mode !== 'subscription')
        return [400, stripeError('invalid_request_error', 'mode must be subscription here', { param: 'mode' })];
      const sessionId = id('cs_test');
      const session: Json = {
        id: sessionId,
        object: 'checkout.session',
        mode: 'subscription',
        status: 'open',
        customer,
        client_reference_id: body.client_reference_id ?? null,
        metadata: body.metadata ?? {},
        success_url: body.success_url,
        cancel_url: body.cancel_url,
        subscription: null,
        url: `${publicUrl}/checkout/${sessionId}`,
        created: nowSeconds(),
        // Not part of Stripe's session object; kept for completeCheckout.
        _price: price,
        _subscriptionMetadata: (body.subscription_data as Json | undefined)?.metadata ?? {},
      };
      checkoutSessions.set(sessionId, session);
      creations.checkoutSessions++;
      return [200, session];
    },
    '/v1/billing_portal/sessions': (body) => {
      const customer = body.customer as string | undefined;
      if (!customer || !customers.has(customer))
        return [
          400,
          stripeError('invalid_request_error', `No such customer: '${customer}'`, {
            code: 'resource_missing',
            param: 'customer',
          }),
        ];
      const portal = {
        id: id('bps'),
        object: 'billing_portal.session',
        customer,
        return_url: body.return_url ?? null,
        url: `${publicUrl}/portal/${id('p')}`,
        created: nowSeconds(),
      };
      portalSessions.set(portal.id, portal);
      creations.portalSessions++;
      return [200, portal];
    },
  };
  const readers: Record<string, Map<string, Json>> = {
    '/v1/customers': customers,
    '/v1/checkout/sessions': checkoutSessions,
    '/v1/subscriptions': subscriptions,
  };

  const publicView = (object: Json): Json =>
    Object.fromEntries(Object.entries(object).filter(([k]) => !k.startsWith('_')));

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const method = req.method ?? 'GET';
    // The pages a browser opens (what checkout.stripe.com and billing.stripe.com are for real).
    const page = /^\/(checkout|portal)\/([A-Za-z0-9_]+)$/.exec(path);
    if (method === 'GET' && page) return void openPage(res, page[1]!, page[2]!);
    const key = req.headers['idempotency-key'] as string | undefined;
    const body = method === 'POST' ? parseStripeForm(raw) : {};
    requests.push({ method, path, idempotencyKey: key, body });
    if (!/^Bearer sk_(test|live)_/.test(req.headers.authorization ?? '')) {
      return send(res, 401, stripeError('invalid_request_error', 'Invalid API Key provided'));
    }
    const failure = failures.find((f) => f.left > 0 && f.method === method && path.startsWith(f.path));
    if (failure && (failure.when ?? 'before') === 'before') {
      failure.left--;
      return send(res, failure.status, stripeError('api_error', 'Scripted failure of the fake Stripe server'));
    }
    if (method === 'POST') {
      const create = creators[path];
      if (!create)
        return send(res, 404, stripeError('invalid_request_error', `Unrecognized request URL (POST: ${path})`));
      const bodyHash = createHash('sha256').update(raw).digest('hex');
      if (key) {
        const seen = idempotent.get(key);
        if (seen) {
          if (seen.bodyHash !== bodyHash || seen.path !== path) {
            return send(
              res,
              400,
              stripeError(
                'idempotency_error',
                'Keys for idempotent requests can only be used with the same parameters they were first used with.',
              ),
            );
          }
          if (!failure) return send(res, seen.status, seen.body, { 'idempotent-replayed': 'true' });
        }
      }
      const [status, created] =
        key && idempotent.has(key) ? [idempotent.get(key)!.status, idempotent.get(key)!.body] : create(body);
      const view = status === 200 ? publicView(created) : created;
      if (key && status < 500) idempotent.set(key, { bodyHash, path, status, body: view });
      if (failure) {
        failure.left--;
        return send(res, failure.status, stripeError('api_error', 'Scripted failure of the fake Stripe server'));
      }
      return send(res, status, view);
    }
    if (method === 'GET') {
      const match = /^(\/v1\/[a-z_/]+?)\/([A-Za-z0-9_]+)$/.exec(path);
      const store = match ? readers[match[1]!] : undefined;
      if (!match || !store)
        return send(res, 404, stripeError('invalid_request_error', `Unrecognized request URL (GET: ${path})`));
      const object = store.get(match[2]!);
      if (!object)
        return send(
          res,
          404,
          stripeError('invalid_request_error', `No such object: '${match[2]}'`, { code: 'resource_missing' }),
        );
      return send(res, 200, publicView(object));
    }
    return send(res, 405, stripeError('invalid_request_error', `Method ${method} not supported by the fake`));
  };

  async function openPage(res: ServerResponse, kind: string, pageId: string) {
    const session = kind === 'checkout' ? checkoutSessions.get(pageId) : undefined;
    if (kind === 'checkout' && session && webhookTarget) {
      if (session.status === 'open') await completeCheckout(pageId, webhookTarget);
      res.writeHead(303, { location: String(session.success_url).replace('{CHECKOUT_SESSION_ID}', pageId) }).end();
      return;
    }
    res.writeHead(kind === 'portal' || session ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(
      kind === 'portal'
        ? 'Fake Stripe Customer Portal: nothing to manage here.\n'
        : session
          ? 'Fake Stripe Checkout: no webhook configured, nothing delivered.\n'
          : 'No such session\n',
    );
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        send(res, 500, stripeError('api_error', `Fake Stripe crashed: ${(error as Error).message}`));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  publicUrl ||= url;

  const event = (type: string, object: Json, eventOptions: { created?: number; id?: string } = {}): Json => ({
    id: eventOptions.id ?? id('evt'),
    object: 'event',
    api_version: '2025-10-29.clover',
    created: eventOptions.created ?? nowSeconds(),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object: publicView(object) },
  });

  const deliver = async (
    target: string,
    secret: string,
    evt: Json,
    deliverOptions: { timestamp?: number } = {},
  ): Promise<Delivery> => {
    const payload = JSON.stringify(evt, null, 2);
    const response = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'stripe-signature': stripeSignatureHeader(payload, secret, deliverOptions.timestamp),
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      },
      body: payload,
    });
    return { event: evt, status: response.status, body: await response.text() };
  };

  const mustGet = (store: Map<string, Json>, key: string, what: string) => {
    const object = store.get(key);
    if (!object) throw new Error(`fake Stripe: no ${what} ${key}`);
    return object;
  };

  async function completeCheckout(
    sessionId: string,
    webhook: { url: string; secret: string },
  ): Promise<{ subscription: Json; deliveries: Delivery[] }> {
    const session = mustGet(checkoutSessions, sessionId, 'checkout session');
    const subscription = subscriptionObject(
      session.customer as string,
      session._price as string,
      session._subscriptionMetadata as Json,
    );
    subscriptions.set(subscription.id as string, subscription);
    Object.assign(session, { status: 'complete', payment_status: 'paid', subscription: subscription.id });
    const created = nowSeconds();
    const deliveries = [
      await deliver(webhook.url, webhook.secret, event('checkout.session.completed', session, { created })),
      await deliver(webhook.url, webhook.secret, event('customer.subscription.created', subscription, { created })),
    ];
    return { subscription: publicView(subscription), deliveries };
  }

  return {
    url,
    server,
    customers,
    checkoutSessions,
    portalSessions,
    subscriptions,
    creations,
    requests,
    setWebhook(target) {
      webhookTarget = target;
    },
    failNext(failure) {
      failures.push({ ...failure, left: failure.times ?? 1 });
    },
    event,
    deliver,
    completeCheckout,
    updateSubscription(subscriptionId, change, eventOptions = {}) {
      const subscription = mustGet(subscriptions, subscriptionId, 'subscription');
      if (change.status) subscription.status = change.status;
      const item = (subscription.items as { data: Json[] }).data[0]!;
      if (change.priceId) item.price = { id: change.priceId, object: 'price' };
      if (change.currentPeriodEnd) item.current_period_end = change.currentPeriodEnd;
      return event('customer.subscription.updated', structuredClone(subscription), eventOptions);
    },
    cancelSubscription(subscriptionId, eventOptions = {}) {
      const subscription = mustGet(subscriptions, subscriptionId, 'subscription');
      Object.assign(subscription, { status: 'canceled', canceled_at: nowSeconds(), ended_at: nowSeconds() });
      return event('customer.subscription.deleted', structuredClone(subscription), eventOptions);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
