export { defineRoute } from './route.js';
export { bearerAuth, buildDocument, cookieAuth, createOpenApi } from './document.js';
export { bodyParserCodes, bodyParserError, bodyParserErrors } from './body-parser-errors.js';
export { toExpressPath, toOpenApiPath } from './path.js';
export {
  ContractError,
  OpenApiError,
  OpenApiOptionsError,
  RequestValidationError,
  ResponseValidationError,
  RouteDefinitionError,
} from './errors.js';
export {
  assertRouterMatchesDocument,
  compareRouterWithDocument,
  listDocumentOperations,
  listExpressRoutes,
} from './contract.js';
export type {
  BodyParserErrorSpec,
  ContractOptions,
  ContractReport,
  ErrorCatalog,
  ErrorSpec,
  ErrorStatus,
  HttpMethod,
  IssueLocation,
  ObjectSchema,
  OpenApi,
  OpenApiOptions,
  OpenApiVersion,
  PlainHeader,
  PlainSchema,
  ResolvedErrorCatalog,
  ResponseSpec,
  RouteDefinition,
  RouteEntry,
  RouteSpec,
  SecurityRequirement,
  ValidationIssue,
} from './types.js';
