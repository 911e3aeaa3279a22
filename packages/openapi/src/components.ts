import type { HeaderObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import type { ErrorStatus } from './route.js';

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
        location: { type: 'string', enum: ['params', 'query', 'body', 'headers', 'response'], description: 'Part of the request that failed.' },
        path: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'integer' }] }, description: 'Path inside that part.' },
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
            issues: { type: 'array', items: { $ref: `#/components/schemas/${ISSUE_SCHEMA}` }, description: 'Every validation problem (VALIDATION_ERROR only).' },
            retryAfter: { type: 'integer', minimum: 0, description: 'Seconds to wait before retrying (RATE_LIMITED only).' },
          },
        },
      },
    },
  };
}

interface ErrorInfo {
  name: string;
  description: string;
  code: string;
  message: string;
  headers?: string[];
}

export const ERROR_RESPONSES: Readonly<Record<ErrorStatus, ErrorInfo>> = {
  400: { name: 'BadRequest', description: 'The request is malformed or failed validation; every issue is listed.', code: 'VALIDATION_ERROR', message: 'Request validation failed with 1 issue' },
  401: { name: 'Unauthorized', description: 'No valid session cookie or API key was sent.', code: 'UNAUTHENTICATED', message: 'Authentication required' },
  403: { name: 'Forbidden', description: 'The caller is authenticated but may not do this.', code: 'FORBIDDEN', message: 'Not allowed' },
  404: { name: 'NotFound', description: 'The resource does not exist or is not visible to the caller.', code: 'NOT_FOUND', message: 'Not found' },
  409: { name: 'Conflict', description: 'The request conflicts with the current state of the resource.', code: 'CONFLICT', message: 'Conflict' },
  413: { name: 'PayloadTooLarge', description: 'The request body is larger than the limit.', code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' },
  422: { name: 'UnprocessableContent', description: 'The request is well-formed but cannot be processed as it stands.', code: 'UNPROCESSABLE', message: 'Unprocessable content' },
  415: { name: 'UnsupportedMediaType', description: 'The request body is not application/json.', code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json' },
  429: {
    name: 'TooManyRequests',
    description: 'The rate limit of the caller was exceeded; retry after the given delay.',
    code: 'RATE_LIMITED',
    message: 'Too many requests',
    headers: ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
  },
  500: { name: 'InternalError', description: 'An unexpected error; the request id helps support find it.', code: 'INTERNAL_ERROR', message: 'Internal server error' },
  503: { name: 'ServiceUnavailable', description: 'A dependency is down or the server is shutting down; retry later.', code: 'SERVICE_UNAVAILABLE', message: 'Service unavailable', headers: ['Retry-After'] },
};

export const HEADERS: Readonly<Record<string, HeaderObject>> = {
  'X-RateLimit-Limit': { description: 'Requests allowed in the current window.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Reset': { description: 'Seconds until the current window resets.', schema: { type: 'integer', minimum: 0 } },
  RateLimit: { description: 'IETF RateLimit header: remaining quota and reset, e.g. `"default";r=0;t=30`.', schema: { type: 'string' } },
  'RateLimit-Policy': { description: 'IETF RateLimit-Policy header: quota and window, e.g. `"default";q=100;w=60`.', schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
};

/** Headers documented on the 2xx/3xx responses of routes with an `x-rate-limit` extension: the 429's quota headers, without Retry-After. */
export const SUCCESS_RATE_LIMIT_HEADERS = ERROR_RESPONSES[429].headers!.filter((header) => header !== 'Retry-After');

export function errorResponse(status: ErrorStatus): ResponseObject {
  const info = ERROR_RESPONSES[status];
  const error: Record<string, unknown> = { code: info.code, message: info.message, requestId: 'req_8f14e45f' };
  if (status === 400) error.issues = [{ location: 'body', path: ['name'], message: 'Too small: expected string to have >=1 characters', code: 'too_small' }];
  if (status === 429) error.retryAfter = 30;
  const response: ResponseObject = {
    description: info.description,
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA}` }, example: { success: false, error } } },
  };
  if (info.headers) response.headers = Object.fromEntries(info.headers.map((h) => [h, { $ref: `#/components/headers/${h}` }]));
  return response;
}
