import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from '../db/errors.js';
import { bodyParserAnswer, domainAnswer, ERROR_CATALOG } from './error-catalog.js';
import { HttpError, notFound, type ErrorBody } from './errors.js';
import { requestIdOf } from './request-context.js';

/** Turns any thrown value into an HttpError whose message is safe for clients. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof DatabaseUnavailableError) {
    // Retry-After tells well-behaved clients and proxies to come back instead of treating this as a hard failure.
    return new HttpError(503, error.code, error.message, { cause: error, headers: { 'Retry-After': '1' } });
  }
  // A feature's error (workflows, billing, the analysis pool): the catalog's DOMAIN_ERRORS decide the answer.
  const domain = domainAnswer(error);
  if (domain)
    return new HttpError(domain.status, domain.code, domain.message, { cause: error, headers: domain.headers });
  const parsed = bodyParserAnswer(error);
  if (parsed) return new HttpError(parsed.status, parsed.code, parsed.message, { cause: error });
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  // Another body-parser failure the client caused (its `type` and a 4xx `status`).
  if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500)
    return new HttpError(status, 'BAD_REQUEST', 'The request could not be read', { cause: error });
  return new HttpError(500, ERROR_CATALOG[500].code, ERROR_CATALOG[500].message, { cause: error });
}

/** Unknown routes: the same JSON error as everything else, never Express's HTML page. */
export const notFoundHandler: RequestHandler = (_req, _res, next) => next(notFound());

/**
 * The one error handler. Whatever happened, the client gets `{ success: false, error: { code, message, requestId } }`
 * with no stack, no HTML and no file path, whatever NODE_ENV says; the detail goes to the log, once.
 */
export function errorHandler(options: {
  logger: Logger;
  report?: (error: unknown, requestId: string) => void;
}): ErrorRequestHandler {
  return (error, req, res, next) => {
    const httpError = toHttpError(error);
    const requestId = requestIdOf(req);
    const cause = httpError.cause ?? error;
    const logged = {
      requestId,
      code: httpError.code,
      status: httpError.status,
      err:
        cause instanceof Error
          ? {
              type: cause.name,
              message: cause.message,
              code: (cause as { code?: unknown }).code,
              stack: httpError.status >= 500 ? cause.stack : undefined,
            }
          : { value: String(cause) },
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
    const body: ErrorBody = {
      success: false,
      error: { code: httpError.code, message: httpError.message, requestId, ...httpError.details },
    };
    for (const [name, value] of Object.entries(httpError.headers)) res.setHeader(name, value);
    res.status(httpError.status).json(body);
  };
}
