import type { ValidationIssue } from './types.js';

/** Base class of every error @org/openapi throws; `code` is stable across versions, `cause` keeps the original error. */
export class OpenApiError extends Error {
  override readonly name: string = 'OpenApiError';
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'OPENAPI_ERROR';
  }
}

/** Options passed to `createOpenApi` / `createApiRouter` are invalid (thrown at construction). */
export class OpenApiOptionsError extends OpenApiError {
  override readonly name = 'OpenApiOptionsError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'OPENAPI_INVALID_OPTIONS', ...options });
  }
}

/** A route definition is inconsistent (bad path syntax, params that do not match the path, duplicate operationId...). */
export class RouteDefinitionError extends OpenApiError {
  override readonly name = 'RouteDefinitionError';
  /** `METHOD /path` of the offending route, when known. */
  readonly route: string | undefined;
  constructor(message: string, options: { route?: string; cause?: unknown } = {}) {
    super(options.route ? `${options.route}: ${message}` : message, {
      code: 'OPENAPI_INVALID_ROUTE',
      cause: options.cause,
    });
    this.route = options.route;
  }
}

/** The request did not match the route's params/query/body/headers schemas (HTTP 400). */
export class RequestValidationError extends OpenApiError {
  override readonly name = 'RequestValidationError';
  readonly status = 400;
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], options: { cause?: unknown } = {}) {
    super(`Request validation failed with ${issues.length} issue${issues.length === 1 ? '' : 's'}`, {
      code: 'VALIDATION_ERROR',
      ...options,
    });
    this.issues = issues;
  }
}

/** The handler sent a body that does not match the documented response schema (HTTP 500 in strict mode). */
export class ResponseValidationError extends OpenApiError {
  override readonly name = 'ResponseValidationError';
  readonly status = 500;
  readonly issues: ValidationIssue[];
  /** `METHOD /path` of the route and the status code that was being sent. */
  readonly route: string;
  readonly statusCode: number;
  constructor(route: string, statusCode: number, issues: ValidationIssue[], options: { cause?: unknown } = {}) {
    super(`Response ${statusCode} of ${route} does not match its documented schema`, {
      code: 'RESPONSE_VALIDATION_ERROR',
      ...options,
    });
    this.issues = issues;
    this.route = route;
    this.statusCode = statusCode;
  }
}

/** The Express routes and the OpenAPI document disagree (thrown by `assertRouterMatchesDocument`). */
export class ContractError extends OpenApiError {
  override readonly name = 'ContractError';
  /** Routes mounted in Express but missing from the document, as `METHOD /path`. */
  readonly undocumented: string[];
  /** Operations in the document with no mounted Express route, as `METHOD /path`. */
  readonly unmounted: string[];
  /** Mounts whose routes could not be listed (RegExp paths). */
  readonly unlisted: string[];
  constructor(undocumented: string[], unmounted: string[], unlisted: string[] = []) {
    const parts = [
      undocumented.length ? `undocumented routes: ${undocumented.join(', ')}` : '',
      unmounted.length ? `documented but not mounted: ${unmounted.join(', ')}` : '',
      unlisted.length ? `mounts that cannot be listed: ${unlisted.join(', ')}` : '',
    ].filter(Boolean);
    super(`Router and OpenAPI document disagree (${parts.join('; ')})`, { code: 'OPENAPI_CONTRACT_MISMATCH' });
    this.undocumented = undocumented;
    this.unmounted = unmounted;
    this.unlisted = unlisted;
  }
}
