import type { HeaderObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import type { ErrorCatalog, ErrorSpec, ErrorStatus, ResolvedErrorCatalog } from './types.js';

// Shared components every route's error responses point at, so a 429 is described once.

export const ERROR_SCHEMA = 'ApiError';
export const ISSUE_SCHEMA = 'ValidationIssue';

export function errorSchemas(): Record<string, SchemaObject> {
  return {
    [ISSUE_SCHEMA]: {
      type: 'object',
      description: 'One problem found in the request. Input values are never echoed back.',
      required: ['location', 'path', 'message', 'code'],
      properties: {
        location: {
          type: 'string',
          enum: ['params', 'query', 'body', 'headers', 'response'],
          description: 'Part of the request that failed.',
        },
        path: {
          type: 'array',
          items: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
          description: 'Path inside that part.',
        },
        message: { type: 'string', description: 'Human-readable message.' },
        code: { type: 'string', description: 'Stable issue code, e.g. invalid_type.' },
      },
    },
    [ERROR_SCHEMA]: {
      type: 'object',
      description: 'The error format of every non-2xx response.',
      required: ['success', 'error'],
      properties: {
        success: { type: 'boolean', enum: [false] },
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', description: 'Stable machine-readable code, e.g. VALIDATION_ERROR.' },
            message: { type: 'string', description: 'Human-readable message.' },
            requestId: { type: 'string', description: 'Id of the request, for support.' },
            issues: {
              type: 'array',
              items: { $ref: `#/components/schemas/${ISSUE_SCHEMA}` },
              description: 'Every validation problem (VALIDATION_ERROR only).',
            },
            retryAfter: { type: 'integer', minimum: 0, description: 'Seconds to wait before retrying (429 and 503).' },
          },
        },
      },
    },
  };
}

export const HEADERS: Readonly<Record<string, HeaderObject>> = {
  'X-RateLimit-Limit': {
    description: 'Requests allowed in the current window.',
    schema: { type: 'integer', minimum: 0 },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the current window.',
    schema: { type: 'integer', minimum: 0 },
  },
  'X-RateLimit-Reset': {
    description: 'When the current window resets, in epoch seconds.',
    schema: { type: 'integer', minimum: 0 },
  },
  RateLimit: {
    description: 'IETF RateLimit header: remaining quota and reset, e.g. `"default";r=0;t=30`.',
    schema: { type: 'string' },
  },
  'RateLimit-Policy': {
    description: 'IETF RateLimit-Policy header: quota and window, e.g. `"default";q=100;w=60`.',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
};

const headersOf = (...names: string[]) => Object.fromEntries(names.map((name) => [name, HEADERS[name]!]));

type DefaultSpec = ErrorSpec & { name: string; description: string };

export const ERROR_RESPONSES: Readonly<Record<ErrorStatus, DefaultSpec>> = {
  400: {
    name: 'BadRequest',
    description: 'The request is malformed or failed validation; every issue is listed.',
    code: 'VALIDATION_ERROR',
    message: 'Request validation failed with 1 issue',
  },
  401: {
    name: 'Unauthorized',
    description: 'No valid session cookie or API key was sent.',
    code: 'UNAUTHENTICATED',
    message: 'Authentication required',
  },
  403: {
    name: 'Forbidden',
    description: 'The caller is authenticated but may not do this.',
    code: 'FORBIDDEN',
    message: 'Not allowed',
  },
  404: {
    name: 'NotFound',
    description: 'The resource does not exist or is not visible to the caller.',
    code: 'NOT_FOUND',
    message: 'Not found',
  },
  409: {
    name: 'Conflict',
    description: 'The request conflicts with the current state of the resource.',
    code: 'CONFLICT',
    message: 'Conflict',
  },
  413: {
    name: 'PayloadTooLarge',
    description: 'The request body is larger than the limit.',
    code: 'PAYLOAD_TOO_LARGE',
    message: 'Request body too large',
  },
  422: {
    name: 'UnprocessableContent',
    description: 'The request is well-formed but cannot be processed as it stands.',
    code: 'UNPROCESSABLE',
    message: 'Unprocessable content',
  },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The request body is not application/json.',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Content-Type must be application/json',
  },
  429: {
    name: 'TooManyRequests',
    description: 'The rate limit of the caller was exceeded; retry after the given delay.',
    code: 'RATE_LIMITED',
    message: 'Too many requests',
    headers: headersOf(
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
      'RateLimit',
      'RateLimit-Policy',
      'Retry-After',
    ),
  },
  500: {
    name: 'InternalError',
    description: 'An unexpected error; the request id helps support find it.',
    code: 'INTERNAL_ERROR',
    message: 'Internal server error',
  },
  503: {
    name: 'ServiceUnavailable',
    description: 'A dependency is down or the server is shutting down; retry later.',
    code: 'SERVICE_UNAVAILABLE',
    message: 'Service unavailable',
    headers: headersOf('Retry-After'),
  },
};

/** The catalog's statuses, validated and merged over the defaults. */
export function resolveErrorCatalog(
  errors: ErrorCatalog | undefined,
  fail: (message: string) => Error,
): ResolvedErrorCatalog {
  if (errors !== undefined && (typeof errors !== 'object' || errors === null))
    throw fail('errors must be an object of status → { code, message, ... }');
  const resolved = {} as Record<ErrorStatus, ErrorSpec & { name: string; description: string; custom: boolean }>;
  for (const [key, base] of Object.entries(ERROR_RESPONSES)) {
    const status = Number(key) as ErrorStatus;
    const spec = errors?.[status];
    if (spec !== undefined && (typeof spec !== 'object' || spec === null))
      throw fail(`errors.${status} must be an object`);
    for (const field of ['code', 'message', 'description'] as const) {
      if (spec?.[field] !== undefined && (typeof spec[field] !== 'string' || spec[field] === ''))
        throw fail(`errors.${status}.${field} must be a non-empty string`);
    }
    if (spec?.codes !== undefined && (!Array.isArray(spec.codes) || spec.codes.some((c) => typeof c !== 'string')))
      throw fail(`errors.${status}.codes must be an array of strings`);
    const fields = spec?.fields ?? base.fields;
    for (const name of spec?.required ?? [])
      if (!fields || !(name in fields)) throw fail(`errors.${status}.required: "${name}" is not in fields`);
    const code = spec?.code ?? base.code;
    resolved[status] = {
      ...base,
      ...spec,
      code,
      message: spec?.message ?? base.message,
      description: spec?.description ?? base.description,
      ...(spec?.codes || spec?.code ? { codes: [...new Set([code, ...(spec?.codes ?? [])])] } : {}),
      name: base.name,
      custom: spec !== undefined,
    };
  }
  for (const key of Object.keys(errors ?? {}))
    if (!(key in ERROR_RESPONSES))
      throw fail(`errors: ${key} is not one of ${Object.keys(ERROR_RESPONSES).join(', ')}`);
  return resolved;
}

/** The default catalog (today's codes and messages). */
export const DEFAULT_ERRORS: ResolvedErrorCatalog = resolveErrorCatalog(undefined, (message) => new Error(message));

/** The quota headers a 2xx/3xx response of a route with an `x-rate-limit` extension carries: the 429's, without Retry-After. */
export function successRateLimitHeaders(catalog: ResolvedErrorCatalog): string[] {
  return Object.keys(catalog[429].headers ?? {}).filter((header) => header !== 'Retry-After');
}

/** Whether a status has codes or fields of its own (then its schema is ApiError narrowed to them, written out in full). */
export function isNarrowed(info: ErrorSpec): boolean {
  return info.codes !== undefined || (info.fields !== undefined && Object.keys(info.fields).length > 0);
}

// Written out rather than `allOf` with ApiError: example linters that close every schema reject an `allOf` whose
// branches each know only some of the properties.
function narrowedSchema(
  codes: readonly string[] | undefined,
  fields: Record<string, SchemaObject> | undefined,
  required: readonly string[] | undefined,
): SchemaObject {
  const base = errorSchemas()[ERROR_SCHEMA]!;
  const error = base.properties!.error as SchemaObject;
  const properties: Record<string, SchemaObject> = { ...(error.properties as Record<string, SchemaObject>) };
  if (codes) properties.code = { ...properties.code, enum: [...codes] };
  Object.assign(properties, fields);
  return {
    ...base,
    properties: {
      ...base.properties,
      error: { ...error, required: [...(error.required ?? []), ...(required ?? [])], properties },
    },
  };
}

export function errorResponse(status: ErrorStatus, catalog: ResolvedErrorCatalog): ResponseObject {
  const info = catalog[status];
  const error: Record<string, unknown> = { code: info.code, message: info.message, requestId: 'req_8f14e45f' };
  if (status === 400)
    error.issues = [
      {
        location: 'body',
        path: ['name'],
        message: 'Too small: expected string to have >=1 characters',
        code: 'too_small',
      },
    ];
  if (status === 429 && !info.custom) error.retryAfter = 30;
  for (const [name, schema] of Object.entries(info.fields ?? {}))
    if (schema.example !== undefined) error[name] = schema.example;
  const fields = info.fields as Record<string, SchemaObject> | undefined;
  const schema = isNarrowed(info)
    ? narrowedSchema(info.codes, fields, info.required)
    : { $ref: `#/components/schemas/${ERROR_SCHEMA}` };
  const response: ResponseObject = {
    description: info.description,
    content: { 'application/json': { schema, example: { success: false, error } } },
  };
  if (info.headers && Object.keys(info.headers).length > 0)
    response.headers = Object.fromEntries(
      Object.keys(info.headers).map((h) => [h, { $ref: `#/components/headers/${h}` }]),
    );
  return response;
}
