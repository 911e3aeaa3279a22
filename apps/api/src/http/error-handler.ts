import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AnalysisPoolBusyError, AnalysisTimeBudgetError } from '../workflows/analysis-pool.js';
import { BillingError } from '../billing/errors.js';
import { DatabaseUnavailableError } from '../db/errors.js';
import { bodyParserAnswer, ERROR_CATALOG } from './error-catalog.js';
import { HttpError, notFound, type ErrorBody } from './errors.js';
import { requestIdOf } from './request-context.js';

// Billing failures the client can act on (a conflict with the account's state, a provider outage to retry, a bad
// webhook signature); BILLING_INVALID_OPTIONS is a configuration bug and stays a 500.
const BILLING_STATUS: Partial<Record<BillingError['code'], number>> = {
  BILLING_NO_CUSTOMER: 409,
  BILLING_SUBSCRIPTION_EXISTS: 409,
  BILLING_PRICE_NOT_CONFIGURED: 409,
  BILLING_LOCATION_REQUIRED: 400,
  STRIPE_UNAVAILABLE: 503,
  STRIPE_SIGNATURE_MISSING: 400,
  STRIPE_SIGNATURE_INVALID: 400,
  STRIPE_PAYLOAD_INVALID: 400,
};

/** Turns any thrown value into an HttpError whose message is safe for clients. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof AnalysisTimeBudgetError) return new HttpError(422, error.code, 'The workflow is too expensive to analyse: the analysis did not finish within its time budget', { cause: error });
  if (error instanceof AnalysisPoolBusyError) return new HttpError(503, error.code, 'Too many analyses are running; try again shortly', { cause: error, headers: { 'Retry-After': '1' } });
  if (error instanceof DatabaseUnavailableError) {
    // Retry-After tells well-behaved clients and proxies to come back instead of treating this as a hard failure.
    return new HttpError(503, error.code, error.message, { cause: error, headers: { 'Retry-After': '1' } });
  }
  if (error instanceof BillingError && BILLING_STATUS[error.code] !== undefined) {
    const status = BILLING_STATUS[error.code]!;
    return new HttpError(status, error.code, error.message, { cause: error, headers: status === 503 ? { 'Retry-After': '5' } : {} });
  }
  const parsed = bodyParserAnswer(error);
  if (parsed) return new HttpError(parsed.status, parsed.code, parsed.message, { cause: error });
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  // Another body-parser failure the client caused (its `type` and a 4xx `status`).
  if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500) return new HttpError(status, 'BAD_REQUEST', 'The request could not be read', { cause: error });
  return new HttpError(500, ERROR_CATALOG[500].code, ERROR_CATALOG[500].message, { cause: error });
}

/** Unknown routes: the same JSON error as everything else, never Express's HTML page. */
export const notFoundHandler: RequestHandler = (_req, _res, next) => next(notFound());

/**
 * The one error handler. Whatever happened, the client gets `{ success: false, error: { code, message, requestId } }`
 * with no stack, no HTML and no file path, whatever NODE_ENV says; the detail goes to the log, once.
 */
export function errorHandler(options: { logger: Logger; report?: (error: unknown, requestId: string) => void }): ErrorRequestHandler {
  return (error, req, res, next) => {
    const httpError = toHttpError(error);
    const requestId = requestIdOf(req);
    const cause = httpError.cause ?? error;
    const logged = {
      requestId,
      code: httpError.code,
      status: httpError.status,
      err: cause instanceof Error ? { type: cause.name, message: cause.message, code: (cause as { code?: unknown }).code, stack: httpError.status >= 500 ? cause.stack : undefined } : { value: String(cause) },
    };
    if (httpError.status >= 500) {
      options.logger.error(logged, 'request failed');
      if (httpError.status === 500) options.report?.(cause, requestId);
    } else {
      options.logger.debug(logged, 'request rejected');
    }
    if (res.headersSent) {
      // Too late for a clean error body: end the connection so the client sees a failure, not a truncated success.
      next(error);
      return;
    }
    const body: ErrorBody = { success: false, error: { code: httpError.code, message: httpError.message, requestId, ...httpError.details } };
    for (const [name, value] of Object.entries(httpError.headers)) res.setHeader(name, value);
    res.status(httpError.status).json(body);
  };
}
