import type { z } from 'zod';
import { RouteDefinitionError } from './errors.js';
import { pathParamNames, toOpenApiPath } from './path.js';

/** HTTP methods a route can use (lower case, as in OpenAPI path items). */
/** The methods a route may have, lower case (internal: the public surface is `HttpMethod`). */
export const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);

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

const OPERATION_ID = /^[A-Za-z][A-Za-z0-9_]*$/;

function isZod(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

function isObjectSchema(value: unknown): value is ObjectSchema {
  return isZod(value) && (value as { _zod: { def: { type: string } } })._zod.def.type === 'object';
}

/**
 * Declares one route. The definition is checked here (path syntax, params matching the path,
 * schemas, responses) so that mistakes fail at startup, not when the document is first served.
 */
export function defineRoute<const T extends RouteSpec>(spec: T): RouteDefinition<T> {
  const method = String(spec?.method ?? '').toLowerCase();
  const label = `${method.toUpperCase()} ${String(spec?.path)}`;
  if (!METHODS.has(method) || method !== spec.method) throw new RouteDefinitionError(`method must be one of ${[...METHODS].join(', ')} (lower case)`, { route: label });
  const openApiPath = toOpenApiPath(String(spec.path), label);
  const pathParams = pathParamNames(spec.path);
  if (typeof spec.operationId !== 'string' || !OPERATION_ID.test(spec.operationId)) {
    throw new RouteDefinitionError('operationId must be an identifier (letters, digits, underscore)', { route: label });
  }
  if (typeof spec.summary !== 'string' || spec.summary.trim() === '') throw new RouteDefinitionError('summary is required', { route: label });

  const request = spec.request ?? {};
  for (const part of ['params', 'query', 'headers'] as const) {
    const schema = request[part];
    if (schema !== undefined && !isObjectSchema(schema)) throw new RouteDefinitionError(`request.${part} must be a z.object() schema`, { route: label });
  }
  if (request.body !== undefined && !isZod(request.body)) throw new RouteDefinitionError('request.body must be a Zod schema', { route: label });
  if (request.body !== undefined && (method === 'get' || method === 'head')) throw new RouteDefinitionError(`${method.toUpperCase()} routes cannot have a request body`, { route: label });
  if (request.params) {
    const declared = Object.keys(request.params.shape).sort();
    const inPath = [...pathParams].sort();
    if (declared.join(',') !== inPath.join(',')) {
      throw new RouteDefinitionError(`request.params declares [${declared.join(', ')}] but the path has [${inPath.join(', ')}]`, { route: label });
    }
  }

  const statuses = Object.keys(spec.responses ?? {});
  if (statuses.length === 0) throw new RouteDefinitionError('at least one response is required', { route: label });
  for (const key of statuses) {
    const status = Number(key);
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new RouteDefinitionError(`response status "${key}" is not an HTTP status`, { route: label });
    const response = spec.responses[status]!;
    if (typeof response?.description !== 'string' || response.description === '') throw new RouteDefinitionError(`response ${key} needs a description`, { route: label });
    if (response.body !== undefined && !isZod(response.body)) throw new RouteDefinitionError(`response ${key} body must be a Zod schema`, { route: label });
  }
  if (!statuses.some((s) => Number(s) >= 200 && Number(s) < 400)) throw new RouteDefinitionError('at least one 2xx or 3xx response is required', { route: label });
  for (const key of Object.keys(spec.extensions ?? {})) {
    if (!key.startsWith('x-')) throw new RouteDefinitionError(`extension "${key}" must start with "x-"`, { route: label });
  }
  return Object.freeze({ ...spec, openApiPath, pathParams: Object.freeze(pathParams), label }) as RouteDefinition<T>;
}
