// The public types of @org/openapi's root entry (re-exported by src/index.ts). Type-only: no runtime code and no
// import of another module of the package, so every module can import from here without forming a cycle.
import type {
  ExternalDocumentationObject,
  HeaderObject,
  InfoObject,
  OpenAPIObject,
  SchemaObject,
  SecuritySchemeObject,
  ServerObject,
  TagObject,
} from 'openapi3-ts/oas31';
import type { z } from 'zod';

/** HTTP methods a route can use (lower case, as in OpenAPI path items). */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options';

/** An object schema for params, query or headers: each property becomes one OpenAPI parameter. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ObjectSchema = z.ZodObject<any>;

/** One documented response of a route. */
export interface ResponseSpec {
  /** Text shown in the docs for this status. */
  description: string;
  /** Zod schema of the body; omit for an empty response (204, 304). */
  body?: z.ZodType;
  /** Media type of the body. @default 'application/json' */
  contentType?: string;
  /** Response headers: name to schema (with `.meta({ description })`). */
  headers?: Record<string, z.ZodType>;
}

/** A security requirement: scheme name to scopes (empty list for API keys and cookies). */
export type SecurityRequirement = Record<string, string[]>;

/** Error statuses the document can describe with its shared components. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

/** What `defineRoute` takes: everything the document and the validating handler chain need. */
export interface RouteSpec {
  /** HTTP method, lower case. */
  method: HttpMethod;
  /** Express 5 path relative to the router, e.g. `/workflows/:id` (documented as `/workflows/{id}`). */
  path: string;
  /** Unique, stable id used by generated clients, e.g. `getWorkflow`. */
  operationId: string;
  /** One line shown in the operation list. */
  summary: string;
  /** Longer Markdown description (linters require one). */
  description?: string;
  /** Groups in the docs UI; describe each in the router/document `tags` option. */
  tags?: readonly string[];
  /** Marks the operation deprecated in the document. @default false */
  deprecated?: boolean;
  /** Request schemas. Query and header values arrive as strings: use `z.coerce` for numbers and booleans. */
  request?: {
    params?: ObjectSchema;
    query?: ObjectSchema;
    headers?: ObjectSchema;
    body?: z.ZodType;
    /** Description of the request body. @default the body schema's `.meta({ description })`, else 'JSON request body' */
    bodyDescription?: string;
  };
  /** Documented responses by status code; at least one 2xx/3xx. */
  responses: Readonly<Record<number, ResponseSpec>>;
  /** Per-route security; `[]` makes the route public. @default the document's `security` */
  security?: readonly SecurityRequirement[];
  /** Extra error statuses to document beyond the ones derived from the route's shape (e.g. `[409]`). */
  errors?: readonly ErrorStatus[];
  /** Specification extensions copied onto the operation, e.g. `{ 'x-rate-limit': { limit: 100, windowSeconds: 60 } }`; with `x-rate-limit`, success responses also document the RateLimit headers. */
  extensions?: Readonly<Record<`x-${string}`, unknown>>;
}

/** A validated route: the spec plus what was derived from it once. */
export type RouteDefinition<T extends RouteSpec = RouteSpec> = T & {
  /** The path as an OpenAPI template, e.g. `/workflows/{id}`. */
  readonly openApiPath: string;
  /** Names of the path parameters, in order. */
  readonly pathParams: readonly string[];
  /** `GET /workflows/:id`, used in error messages and logs. */
  readonly label: string;
};

/** Options of `createOpenApi` (and the document part of `createApiRouter`). */
export interface OpenApiOptions {
  /** The document's `info`: `title` and `version` are required; linters also want `description`, `contact` and `license`. */
  info: InfoObject;
  /** Routes to document, from `defineRoute`. */
  routes: readonly RouteDefinition[];
  /** OpenAPI version to emit: 3.1.0 (JSON Schema 2020-12) or 3.0.3. @default '3.1.0' */
  openapi?: OpenApiVersion;
  /** Where the routes are mounted; the first is the canonical one (relative URLs keep the docs working on any host). @default [{ url: '/' }] */
  servers?: readonly ServerObject[];
  /** Security schemes by name, e.g. `{ session: cookieAuth('sid'), apiKey: bearerAuth() }`. @default {} */
  securitySchemes?: Readonly<Record<string, SecuritySchemeObject>>;
  /** Security applied to routes that do not set their own; `[]` means public. @default [] */
  security?: readonly SecurityRequirement[];
  /** Tag descriptions, in display order; tags used by routes but missing here are appended without a description. @default [] */
  tags?: readonly TagObject[];
  /** Link to external documentation. @default undefined */
  externalDocs?: ExternalDocumentationObject;
  /** Error statuses documented on every route, besides those derived from its shape (400, 401/403, 404, 413/415). @default [429, 500, 503] */
  defaultErrors?: readonly ErrorStatus[];
  /** The API's error catalog: per status its code, message, headers and extra fields, used by the documented error responses and by the errors the routers send. @default the built-in catalog (VALIDATION_ERROR, UNAUTHENTICATED, NOT_FOUND, ...) */
  errors?: ErrorCatalog;
}

/** A built document and its cached JSON. */
export interface OpenApi {
  /** The OpenAPI document, built once at construction. Treat it as read-only. */
  readonly document: OpenAPIObject;
  /** The document serialised, as served at `/openapi.json`: on first read, then kept. */
  readonly json: string;
  /** The routes it documents. */
  readonly routes: readonly RouteDefinition[];
  /** The error catalog, merged over the defaults: what the document describes and the routers send. */
  readonly errors: ResolvedErrorCatalog;
}

/** The OpenAPI versions the document can be emitted as. */
export type OpenApiVersion = '3.1.0' | '3.0.3';

/** A JSON Schema as plain (possibly readonly) data, e.g. exported by another package. */
export type PlainSchema = Readonly<Record<string, unknown>>;

/** An OpenAPI header object as plain data: `{ description, schema }`. */
export type PlainHeader = Readonly<{ description?: string; schema?: PlainSchema }>;

/** One error status as an API sends and documents it. */
export interface ErrorSpec {
  /** Code the routers send for this status (and the document's example). */
  code: string;
  /** Message the routers send for this status (and the document's example). */
  message: string;
  /** Every code a response of this status can carry, documented as an enum of `error.code`. @default [code] when set by the catalog, else any string */
  codes?: readonly string[];
  /** Description of the response in the document. */
  description?: string;
  /** Headers sent with this status, as OpenAPI header objects (shared as components by name). @default none (429: the rate-limit headers; 503: Retry-After) */
  headers?: Readonly<Record<string, HeaderObject | PlainHeader>>;
  /** Fields of `error` beyond code, message, requestId and issues, as JSON Schemas (an `example` shows in the document's example). @default {} */
  fields?: Readonly<Record<string, SchemaObject | PlainSchema>>;
  /** Which of `fields` every response of this status carries. @default [] */
  required?: readonly string[];
}

/** Error statuses an API sends: status → code, message, headers and extra fields (merged over the defaults). */
export type ErrorCatalog = { readonly [S in ErrorStatus]?: Partial<ErrorSpec> };

/** A catalog with every status filled in. */
export type ResolvedErrorCatalog = {
  readonly [S in ErrorStatus]: ErrorSpec & { name: string; description: string; custom: boolean };
};

/** How one body-parser error type is answered: its status, and a code and message of its own (else the catalog's for the status). */
export interface BodyParserErrorSpec {
  readonly status: ErrorStatus;
  readonly code?: string;
  readonly message: string;
}

/** Where a request issue was found. */
export type IssueLocation = 'params' | 'query' | 'body' | 'headers';

/** One validation problem, as sent to clients: no input values are echoed, so secrets never reach the body. */
export interface ValidationIssue {
  /** Which part of the request (or `response`) failed. */
  location: IssueLocation | 'response';
  /** Path inside that part, e.g. `['items', 0, 'name']`; empty for the part itself. */
  path: (string | number)[];
  /** Human-readable message from Zod. */
  message: string;
  /** Zod's issue code, e.g. `invalid_type`, `too_small`, `unrecognized_keys`. */
  code: string;
}

/** One method and Express-style path, e.g. `{ method: 'GET', path: '/api/users/:id' }`. */
export interface RouteEntry {
  method: string;
  path: string;
}

/** Options of the contract helpers. */
export interface ContractOptions {
  /** Express paths (exact string or RegExp) that are not part of the API, e.g. health checks. @default [] */
  ignore?: readonly (string | RegExp)[];
  /** Path prefixes the document's paths are mounted at. @default the path part of each `servers[].url` */
  mounts?: readonly string[];
  /** Let `assertRouterMatchesDocument` pass although some mounts (RegExp paths) could not be listed. @default false */
  allowUnlisted?: boolean;
}

/** The outcome of comparing the Express routes with the document's operations. */
export interface ContractReport {
  /** Every Express route found (method + full path). */
  routes: RouteEntry[];
  /** Every documented operation, once per mount. */
  operations: RouteEntry[];
  /** Express routes missing from the document. */
  undocumented: RouteEntry[];
  /** Documented operations with no Express route. */
  unmounted: RouteEntry[];
  /** Mounts whose path is not a plain string (RegExp), so their routes could not be listed. */
  unlisted: string[];
}
