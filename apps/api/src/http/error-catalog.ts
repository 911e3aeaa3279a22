import type { Request, Response } from 'express';
import { bodyParserCodes, bodyParserError, type ErrorCatalog } from '@org/openapi';
import { rateLimitExceededFields, rateLimitHeaderDefinitions, type RateLimited } from '@org/tiered-rate-limit';
import { requestIdOf } from './request-context.js';

// The API's one error contract: every 4xx/5xx body is `{ success: false, error: { code, message, requestId, ... } }`.
// This catalog is what the OpenAPI document describes (createApiDocs), what the feature routers send (validation
// 400, 415) and how the error handler and the rate limiter answer. `codes` lists every code the app sends with a
// status, so the document advertises nothing the app does not send.

const header = (name: string) => rateLimitHeaderDefinitions[name]!;
const QUOTA_HEADERS = Object.fromEntries(['X-RateLimit-Tier', 'X-RateLimit-Limit', 'X-RateLimit-Window', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit', 'RateLimit-Policy', 'Retry-After'].map((name) => [name, header(name)]));
const RETRY_AFTER = { 'Retry-After': header('Retry-After') };

/** Status → code, message, every code sent with it, headers and extra fields. */
export const ERROR_CATALOG = {
  400: {
    code: 'VALIDATION_ERROR',
    message: 'Request validation failed',
    codes: ['VALIDATION_ERROR', 'BATCH_EMPTY', 'BATCH_TOO_LARGE', 'BILLING_LOCATION_REQUIRED', 'INVALID_WORKFLOW_DEFINITION', 'BAD_REQUEST', ...bodyParserCodes(400)],
  },
  401: { code: 'UNAUTHORIZED', message: 'Authentication required', description: 'No valid session cookie or API key was sent.' },
  403: { code: 'INSUFFICIENT_SCOPE', message: 'The API key lacks the scope this route needs', description: 'The caller is authenticated but may not do this.' },
  404: { code: 'NOT_FOUND', message: 'Route not found' },
  409: { code: 'CONFLICT', message: 'Conflict', codes: ['CONFLICT', 'GHL_RECONNECT_REQUIRED', 'WORKFLOW_LIMIT_REACHED', 'WORKFLOW_VERSION_SUPERSEDED', 'BILLING_NO_CUSTOMER', 'BILLING_SUBSCRIPTION_EXISTS', 'BILLING_PRICE_NOT_CONFIGURED'] },
  413: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large', codes: bodyParserCodes(413) },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json', codes: bodyParserCodes(415) },
  422: { code: 'ANALYSIS_TIME_BUDGET_EXCEEDED', message: 'The workflow is too expensive to analyse', description: 'The workflow is well-formed but too expensive to analyse.' },
  429: {
    code: 'RATE_LIMIT_EXCEEDED',
    message: 'Free tier rate limit exceeded.',
    codes: ['RATE_LIMIT_EXCEEDED', 'TOO_MANY_STREAMS'],
    description: 'The rate limit of the caller tier was exceeded; retry after `Retry-After` seconds (or upgrade).',
    headers: QUOTA_HEADERS,
    fields: { ...rateLimitExceededFields, retryAfter: { ...rateLimitExceededFields.retryAfter, example: 42 }, currentTier: { ...rateLimitExceededFields.currentTier, example: 'free' } },
  },
  500: { code: 'INTERNAL_ERROR', message: 'Internal server error', codes: ['INTERNAL_ERROR', 'RESPONSE_VALIDATION_ERROR'] },
  503: {
    code: 'DATABASE_UNAVAILABLE',
    message: 'The database is unavailable',
    codes: ['DATABASE_UNAVAILABLE', 'DATABASE_BUSY', 'DATABASE_TIMEOUT', 'ANALYSIS_POOL_BUSY', 'RATE_LIMIT_UNAVAILABLE', 'GHL_RATE_LIMITED', 'STRIPE_UNAVAILABLE', 'WEBHOOK_NOT_CONFIGURED'],
    headers: RETRY_AFTER,
  },
} as const satisfies ErrorCatalog;

/** How a body-parser error (express.json) is answered: the one table, @org/openapi's, with this catalog's codes. */
export const bodyParserAnswer = (error: unknown) => bodyParserError(error, ERROR_CATALOG);

/** The rate limiter's `handler`: its decision and default body, in the API's error format (with the request id). */
export function rateLimitAnswer(req: Request, res: Response, _next: unknown, { status, body }: RateLimited): void {
  const error = 'error' in body ? body.error : { code: 'RATE_LIMIT_EXCEEDED', message: body.detail, retryAfter: body.retryAfter };
  res.status(status).json({ success: false, error: { ...error, requestId: requestIdOf(req) } });
}
