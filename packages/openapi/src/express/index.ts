export { createApiRouter, implement } from './router.js';
export type { ApiRouter, ApiRouterOptions, ResponseValidationMode } from './router.js';
export type { DocsOptions } from './docs.js';
export { apiErrorHandler } from './http-errors.js';
export type { ApiErrorBody, ApiErrorHandlerOptions, RequestIdReader } from './http-errors.js';
export type {
  ApiHandler,
  ApiLogger,
  ApiRequest,
  ApiResponse,
  BodyOf,
  HeadersOf,
  ImplementedRoute,
  ParamsOf,
  QueryOf,
  ReplyArgs,
  SecurityHandler,
} from './types.js';
