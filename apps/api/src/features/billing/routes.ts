import { defineRoute } from '@org/openapi';
import { createApiRouter, implement, type ApiRouter, type ImplementedRoute } from '@org/openapi/express';
import type { Request } from 'express';
import { z } from 'zod';
import { requireAuth, requireScope } from '../../auth/middleware.js';
import type { Billing } from './billing.js';
import { SUBSCRIPTION_STATUSES, TIER_NAMES } from './tiers.js';
import { HttpError } from '../../http/errors.js';
import { ROUTER_OPTIONS } from '../../http/routing.js';
import { ERROR_CATALOG } from '../../http/error-catalog.js';

const Tier = z.enum(TIER_NAMES).meta({ description: 'Subscription tier.' });

const CheckoutRequest = z
  .strictObject({ tier: z.enum(['pro', 'enterprise']).meta({ description: 'The paid tier to buy.', example: 'pro' }) })
  .meta({ id: 'CheckoutRequest', description: 'The tier to buy.' });
const RedirectUrl = (id: string, description: string) =>
  z
    .object({
      success: z.literal(true),
      data: z.object({ url: z.url().meta({ description }), sessionId: z.string().optional() }),
    })
    .meta({ id, description });

const SubscriptionReport = z
  .object({
    success: z.literal(true),
    data: z.object({
      tier: Tier.meta({ description: 'The tier in force now (limits and retention follow it).' }),
      planTier: Tier.meta({ description: 'The tier of the subscribed price, granted or not.' }),
      status: z
        .enum(SUBSCRIPTION_STATUSES)
        .meta({ description: "Stripe subscription status; 'none' before any checkout." }),
      customerId: z.string().nullable(),
      subscriptionId: z.string().nullable(),
      priceId: z.string().nullable(),
      currentPeriodEnd: z.string().nullable().meta({ description: 'End of the paid period (ISO 8601).' }),
      graceUntil: z.string().nullable().meta({ description: 'While past_due: the paid tier is kept until then.' }),
      retentionDays: z
        .int()
        .nullable()
        .meta({ description: 'Days of analysis history kept and shown; null = unlimited.' }),
      limits: z.object({ requestsPerMinute: z.int(), analysesPerHour: z.int() }),
      usage: z.object({
        analysesPerHour: z.object({
          used: z.int().meta({ description: 'Analyses stored in the last 60 minutes.' }),
          limit: z.int(),
        }),
      }),
    }),
  })
  .meta({
    id: 'SubscriptionReport',
    description: 'Tier, status, limits, retention and current usage of the caller’s location.',
  });

export const getSubscriptionRoute = defineRoute({
  method: 'get',
  path: '/subscription',
  operationId: 'getSubscription',
  summary: 'Current subscription, limits and usage',
  description:
    'The tier in force for the caller’s location, its Stripe status and period end, the limits and history retention of the tier, and usage against the limits.',
  tags: ['billing'],
  responses: { 200: { description: 'The subscription report.', body: SubscriptionReport } },
});

export const checkoutRoute = defineRoute({
  method: 'post',
  path: '/subscription/checkout',
  operationId: 'createCheckoutSession',
  summary: 'Start a Stripe Checkout for a paid tier',
  description:
    'Creates (or reuses) the Stripe customer of the caller’s location and returns the URL of a Stripe Checkout Session. The tier changes when Stripe confirms the payment by webhook, never on the redirect. Repeating the request within 15 minutes returns the same session. This is the `upgradeUrl` of 429 responses.',
  tags: ['billing'],
  request: { body: CheckoutRequest },
  responses: {
    200: {
      description: 'Redirect the browser to `url`.',
      body: RedirectUrl('CheckoutSession', 'Stripe Checkout URL.'),
    },
  },
  errors: [403, 409],
  extensions: { 'x-api-key-scope': 'billing' },
});

export const portalRoute = defineRoute({
  method: 'post',
  path: '/subscription/portal',
  operationId: 'createPortalSession',
  summary: 'Open the Stripe Customer Portal',
  description: 'Returns the URL of a Stripe Customer Portal session: change plan, cancel, payment methods, invoices.',
  tags: ['billing'],
  responses: {
    200: {
      description: 'Redirect the browser to `url`.',
      body: RedirectUrl('PortalSession', 'Stripe Customer Portal URL.'),
    },
  },
  errors: [403, 409],
  extensions: { 'x-api-key-scope': 'billing' },
});

function locationOf(req: Pick<Request, 'principal'>): { accountId: string; locationId: string } {
  const p = req.principal!;
  if (!p.locationId)
    throw new HttpError(400, 'BILLING_LOCATION_REQUIRED', 'Billing needs a credential scoped to a location');
  return { accountId: p.accountId, locationId: p.locationId };
}

/** The billing routes, for the app's router and its OpenAPI document. */
export function subscriptionRoutes(billing: Billing): ImplementedRoute[] {
  const before = [requireAuth];
  // Starting a checkout or opening the billing portal needs the `billing` scope (API keys); reading the plan does not.
  const billingWrite = [requireAuth, requireScope('billing')];
  return [
    implement(
      getSubscriptionRoute,
      async (req, res) => {
        const { locationId } = locationOf(req);
        res.reply(200, { success: true, data: await billing.report(locationId) });
      },
      { before },
    ),
    implement(
      checkoutRoute,
      async (req, res) => {
        const { accountId, locationId } = locationOf(req);
        // Billing failures become HTTP errors in the one error mapper (src/http/error-handler.ts).
        res.reply(200, { success: true, data: await billing.checkout({ accountId, locationId, tier: req.body.tier }) });
      },
      { before: billingWrite },
    ),
    implement(
      portalRoute,
      async (req, res) => {
        const { locationId } = locationOf(req);
        res.reply(200, { success: true, data: await billing.portal({ locationId }) });
      },
      { before: billingWrite },
    ),
  ];
}

/** The billing API as its own router (mounted at /api and /v1/api); docs are served by the app-wide document. */
export function createSubscriptionRouter(
  billing: Billing,
  options: { sessionCookieName: string; isProduction: boolean },
): ApiRouter {
  return createApiRouter({
    routing: ROUTER_OPTIONS,
    info: { title: 'Billing', version: '1.0.0' },
    servers: [{ url: '/api' }, { url: '/v1/api' }],
    securitySchemes: {
      session: { type: 'apiKey', in: 'cookie', name: options.sessionCookieName, description: 'Session cookie.' },
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description: 'API key sent as `Authorization: Bearer ak_...`.',
      },
    },
    security: [{ session: [] }, { apiKey: [] }],
    routes: subscriptionRoutes(billing),
    responseValidation: options.isProduction ? 'log' : 'strict',
    errors: ERROR_CATALOG,
    docs: { enabled: false },
  });
}
