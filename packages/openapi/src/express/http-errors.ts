import type { ErrorRequestHandler, Request, Response } from 'express';
import { DEFAULT_ERRORS, resolveErrorCatalog } from '../components.js';
import { bodyParserError } from '../body-parser-errors.js';
import { OpenApiError, OpenApiOptionsError, RequestValidationError, ResponseValidationError } from '../errors.js';
import type { ErrorCatalog, ErrorStatus, ResolvedErrorCatalog, ValidationIssue } from '../types.js';

/** Finds the request id the app assigned (pino-http's `req.id`, or `res.locals.requestId`). */
export type RequestIdReader = (req: Request, res: Response) => string | undefined;

export const defaultRequestId: RequestIdReader = (req, res) => {
  const fromLocals = (res.locals as { requestId?: unknown }).requestId;
  if (typeof fromLocals === 'string') return fromLocals;
  const fromReq = (req as { id?: unknown }).id;
  return typeof fromReq === 'string' || typeof fromReq === 'number' ? String(fromReq) : undefined;
};

/** The body of every error response: `{ success: false, error: { code, message, requestId?, issues? } }`. */
export interface ApiErrorBody {
  success: false;
  error: { code: string; message: string; requestId?: string; issues?: ValidationIssue[] };
}

export function errorBody(
  code: string,
  message: string,
  requestId: string | undefined,
  issues?: ValidationIssue[],
): ApiErrorBody {
  const error: ApiErrorBody['error'] = { code, message };
  if (requestId !== undefined) error.requestId = requestId;
  if (issues) error.issues = issues;
  return { success: false, error };
}

/** The body of an error status as the catalog (and so the document's examples) describes it. */
export const statusError = (
  status: ErrorStatus,
  requestId: string | undefined,
  catalog: ResolvedErrorCatalog = DEFAULT_ERRORS,
): ApiErrorBody => errorBody(catalog[status].code, catalog[status].message, requestId);

/** Maps an error to [status, body] if it is one this package knows (its own or body-parser's), else undefined. */
export function knownError(
  error: unknown,
  requestId: string | undefined,
  exposeResponseIssues: boolean,
  catalog: ResolvedErrorCatalog = DEFAULT_ERRORS,
): [number, ApiErrorBody] | undefined {
  if (error instanceof RequestValidationError)
    return [error.status, errorBody(catalog[400].code, error.message, requestId, error.issues)];
  if (error instanceof ResponseValidationError) {
    return [
      error.status,
      errorBody(
        error.code,
        'The response did not match the documented schema',
        requestId,
        exposeResponseIssues ? error.issues : undefined,
      ),
    ];
  }
  const parsed = bodyParserError(error, catalog);
  if (parsed) return [parsed.status, errorBody(parsed.code, parsed.message, requestId)];
  const status = (error as { status?: unknown } | null)?.status;
  if (error instanceof OpenApiError && typeof status === 'number')
    return [status, errorBody(error.code, error.message, requestId)];
  return undefined;
}

/** Options of `apiErrorHandler`. */
export interface ApiErrorHandlerOptions {
  /** Reads the request id for the body. @default `res.locals.requestId`, then `req.id` */
  requestId?: RequestIdReader;
  /** Called with every error that becomes a 500 (never sent to the client). @default console.error */
  onUnexpected?: (error: unknown, req: Request) => void;
  /** The error catalog (as passed to `createOpenApi`), for the codes and messages of the statuses it answers. @default the built-in catalog */
  errors?: ErrorCatalog;
}

/**
 * A final Express error handler that answers in the API's error format: validation and
 * body-parser errors with their status, errors carrying an `expose`d 4xx status with it, and
 * anything else as a 500 without details (no stack or message reaches the client).
 */
export function apiErrorHandler(options: ApiErrorHandlerOptions = {}): ErrorRequestHandler {
  const requestId = options.requestId ?? defaultRequestId;
  const catalog =
    options.errors === undefined
      ? DEFAULT_ERRORS
      : resolveErrorCatalog(options.errors, (message) => new OpenApiOptionsError(message));
  const onUnexpected = options.onUnexpected ?? ((error: unknown) => console.error('Unhandled error in request', error));
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const id = requestId(req, res);
    const known = knownError(error, id, false, catalog);
    if (known) return void res.status(known[0]).json(known[1]);
    const { status, expose, message } = (error ?? {}) as { status?: unknown; expose?: unknown; message?: unknown };
    if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) {
      return void res
        .status(status)
        .json(errorBody('HTTP_ERROR', typeof message === 'string' ? message : 'Request failed', id));
    }
    onUnexpected(error, req);
    res.status(500).json(statusError(500, id, catalog));
  };
}
