import type { Request, Response } from 'express';
import { bodyParserCodes, bodyParserError, type ErrorCatalog } from '@org/openapi';
import { rateLimitExceededFields, rateLimitHeaderDefinitions, type RateLimited } from '@org/tiered-rate-limit';
import { requestIdOf } from './request-context.js';

// The API's one error contract: every 4xx/5xx body is `{ success: false, error: { code, message, requestId, ... } }`.
// This catalog is what the OpenAPI document describes (createApiDocs), what the feature routers send (validation
// 400, 415) and how the error handler and the rate limiter answer. `codes` lists every code the app sends with a
// status, so the document advertises nothing the app does not send.

const header = (name: string) => rateLimitHeaderDefinitions[name]!;
const QUOTA_HEADERS = Object.fromEntries(
  [
    'X-RateLimit-Tier',
    'X-RateLimit-Limit',
    'X-RateLimit-Window',
    'X-RateLimit-Remaining',
    'X-RateLimit-Reset',
    'RateLimit',
    'RateLimit-Policy',
    'Retry-After',
  ].map((name) => [name, header(name)]),
);
const RETRY_AFTER = { 'Retry-After': header('Retry-After') };

/** Status → code, message, every code sent with it, headers and extra fields. */
export const ERROR_CATALOG = {
  400: {
    code: 'VALIDATION_ERROR',
    message: 'Request validation failed',
    codes: [
      'VALIDATION_ERROR',
      'BATCH_EMPTY',
      'BATCH_TOO_LARGE',
      'BILLING_LOCATION_REQUIRED',
      'INVALID_WORKFLOW_DEFINITION',
      'BAD_REQUEST',
      ...bodyParserCodes(400),
    ],
  },
  401: {
    code: 'UNAUTHORIZED',
    message: 'Authentication required',
    description: 'No valid session cookie or API key was sent.',
  },
  403: {
    code: 'INSUFFICIENT_SCOPE',
    message: 'The API key lacks the scope this route needs',
    description: 'The caller is authenticated but may not do this.',
  },
  404: { code: 'NOT_FOUND', message: 'Route not found' },
  409: {
    code: 'CONFLICT',
    message: 'Conflict',
    codes: [
      'CONFLICT',
      'GHL_RECONNECT_REQUIRED',
      'WORKFLOW_LIMIT_REACHED',
      'WORKFLOW_VERSION_SUPERSEDED',
      'BILLING_NO_CUSTOMER',
      'BILLING_SUBSCRIPTION_EXISTS',
      'BILLING_PRICE_NOT_CONFIGURED',
    ],
  },
  413: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large', codes: bodyParserCodes(413) },
  415: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Content-Type must be application/json',
    codes: bodyParserCodes(415),
  },
  422: {
    code: 'ANALYSIS_TIME_BUDGET_EXCEEDED',
    message: 'The workflow is too expensive to analyse',
    description: 'The workflow is well-formed but too expensive to analyse.',
  },
  429: {
    code: 'RATE_LIMIT_EXCEEDED',
    message: 'Free tier rate limit exceeded.',
    codes: ['RATE_LIMIT_EXCEEDED', 'TOO_MANY_STREAMS'],
    description: 'The rate limit of the caller tier was exceeded; retry after `Retry-After` seconds (or upgrade).',
    headers: QUOTA_HEADERS,
    fields: {
      ...rateLimitExceededFields,
      retryAfter: { ...rateLimitExceededFields.retryAfter, example: 42 },
      currentTier: { ...rateLimitExceededFields.currentTier, example: 'free' },
    },
  },
  500: {
    code: 'INTERNAL_ERROR',
    message: 'Internal server error',
    codes: ['INTERNAL_ERROR', 'RESPONSE_VALIDATION_ERROR'],
  },
  503: {
    code: 'DATABASE_UNAVAILABLE',
    message: 'The database is unavailable',
    codes: [
      'DATABASE_UNAVAILABLE',
      'DATABASE_BUSY',
      'DATABASE_TIMEOUT',
      'ANALYSIS_POOL_BUSY',
      'RATE_LIMIT_UNAVAILABLE',
      'GHL_RATE_LIMITED',
      'STRIPE_UNAVAILABLE',
      'WEBHOOK_NOT_CONFIGURED',
    ],
    headers: RETRY_AFTER,
  },
} as const satisfies ErrorCatalog;

/** How the API answers one domain error: its status, the message sent (the error's own when absent) and headers. */
export interface DomainAnswer {
  status: number;
  message?: string;
  headers?: (error: Error & { retryAfterMs?: number }) => Record<string, string>;
}

const retryAfter = (seconds: number) => () => ({ 'Retry-After': String(seconds) });

/**
 * Domain errors → HTTP, by error class name (`error.name`) and stable `code`: the features and the analysis pool throw
 * their own errors and never build HTTP errors; this table is the one place that decides how each is answered. A code
 * not listed (BILLING_INVALID_OPTIONS: a configuration bug) stays a 500.
 */
export const DOMAIN_ERRORS: Readonly<Record<string, Readonly<Record<string, DomainAnswer>>>> = {
  // src/features/workflows/errors.ts
  WorkflowError: {
    NOT_FOUND: { status: 404 },
    VALIDATION_ERROR: { status: 400 },
    WORKFLOW_VERSION_SUPERSEDED: { status: 409 },
    WORKFLOW_LIMIT_REACHED: { status: 409 },
    GHL_RECONNECT_REQUIRED: { status: 409 },
    GHL_RATE_LIMITED: {
      status: 503,
      headers: (error) => ({ 'Retry-After': String(Math.ceil((error.retryAfterMs ?? 10_000) / 1000)) }),
    },
    GHL_TIMEOUT: { status: 504 },
    GHL_UNAVAILABLE: { status: 502 },
  },
  // src/features/workflows/analysis-pool.ts
  AnalysisTimeBudgetError: {
    ANALYSIS_TIME_BUDGET_EXCEEDED: {
      status: 422,
      message: 'The workflow is too expensive to analyse: the analysis did not finish within its time budget',
    },
  },
  AnalysisPoolBusyError: {
    ANALYSIS_POOL_BUSY: {
      status: 503,
      message: 'Too many analyses are running; try again shortly',
      headers: retryAfter(1),
    },
  },
  // src/features/billing/errors.ts: failures the client can act on (a conflict with the account's state, a provider
  // outage to retry, a bad webhook signature).
  BillingError: {
    BILLING_NO_CUSTOMER: { status: 409 },
    BILLING_SUBSCRIPTION_EXISTS: { status: 409 },
    BILLING_PRICE_NOT_CONFIGURED: { status: 409 },
    BILLING_LOCATION_REQUIRED: { status: 400 },
    STRIPE_UNAVAILABLE: { status: 503, headers: retryAfter(5) },
    STRIPE_SIGNATURE_MISSING: { status: 400 },
    STRIPE_SIGNATURE_INVALID: { status: 400 },
    STRIPE_PAYLOAD_INVALID: { status: 400 },
  },
};

/** The answer to a domain error listed in DOMAIN_ERRORS, else undefined. */
export function domainAnswer(
  error: unknown,
): { status: number; code: string; message: string; headers: Record<string, string> } | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !Object.hasOwn(DOMAIN_ERRORS, error.name)) return undefined;
  const answers = DOMAIN_ERRORS[error.name]!;
  const answer = Object.hasOwn(answers, code) ? answers[code]! : undefined;
  if (!answer) return undefined;
  return {
    status: answer.status,
    code,
    message: answer.message ?? error.message,
    headers: answer.headers?.(error) ?? {},
  };
}

/** How a body-parser error (express.json) is answered: the one table, @org/openapi's, with this catalog's codes. */
export const bodyParserAnswer = (error: unknown) => bodyParserError(error, ERROR_CATALOG);

/** The rate limiter's `handler`: its decision and default body, in the API's error format (with the request id). */
export function rateLimitAnswer(req: Request, res: Response, _next: unknown, { status, body }: RateLimited): void {
  const error =
    'error' in body ? body.error : { code: 'RATE_LIMIT_EXCEEDED', message: body.detail, retryAfter: body.retryAfter };
  res.status(status).json({ success: false, error: { ...error, requestId: requestIdOf(req) } });
}
