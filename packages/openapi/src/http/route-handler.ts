import type { z } from 'zod';
import { createOpenApi } from '../document.js';
import { OpenApiOptionsError, RequestValidationError, ResponseValidationError } from '../errors.js';
import { errorBody, knownError, statusError, type ApiErrorBody } from '../express/http-errors.js';
import type { BodyOf, HeadersOf, ParamsOf, QueryOf, ReplyArgs } from '../express/types.js';
import type { DocsOptions } from './docs.js';
import { sharedBindingOptions, type ResponseValidationMode } from './binding-options.js';
import type {
  ErrorStatus,
  IssueLocation,
  OpenApi,
  OpenApiOptions,
  RouteDefinition,
  RouteSpec,
  SecurityRequirement,
  ValidationIssue,
} from '../types.js';
export type { ResponseValidationMode } from './binding-options.js';

/** The validated, typed input of a route, whatever the framework. */
export interface ApiInput<T extends RouteSpec> {
  params: ParamsOf<T>;
  query: QueryOf<T>;
  /** The declared request headers, parsed by `request.headers`. */
  headers: HeadersOf<T>;
  body: BodyOf<T>;
  /** Builds the result: a documented status and, when that status has a body schema, a body of that schema. */
  reply<S extends keyof T['responses'] & number>(status: S, ...body: ReplyArgs<T, S>): ApiResult<T>;
}

/** What a handler returns (made by `input.reply(status, body)`): a documented status and, when that status has a body schema, its body. */
export type ApiResult<T extends RouteSpec> = {
  [S in keyof T['responses'] & number]: ReplyArgs<T, S> extends [body: infer B]
    ? { status: S; body: B; headers?: Record<string, string> }
    : { status: S; body?: undefined; headers?: Record<string, string> };
}[keyof T['responses'] & number];

/** A route's handler on Fastify and Hono: typed input in, a documented result out. `ctx` is the framework's request (Fastify) or context (Hono). */
export type ApiRouteHandler<T extends RouteSpec, Ctx> = (
  input: ApiInput<T>,
  ctx: Ctx,
) => ApiResult<T> | Promise<ApiResult<T>>;

/** A route paired with its handler, from the binding's `implement`. */
export interface ImplementedApiRoute<T extends RouteSpec = RouteSpec, Ctx = unknown> {
  readonly route: RouteDefinition<T>;
  readonly handler: ApiRouteHandler<T, Ctx>;
}

/** Decides whether a request satisfies one security scheme. */
export type ApiSecurityHandler<Ctx> = (ctx: Ctx) => boolean | Promise<boolean>;

/** What to do when a handler returns a body that does not match its documented schema. */

/** Options of the Fastify and Hono bindings: the Express router's, with handlers and checks over the framework's request. */
export interface ApiOptions<Ctx> extends Omit<OpenApiOptions, 'routes'> {
  /** The implemented routes, from `implement(route, handler)`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry keeps its own route type
  routes: readonly ImplementedApiRoute<any, Ctx>[];
  /** `strict`: an invalid response becomes a 500 and is logged; `log`: it is logged and sent; `off`: not checked. @default 'log' when NODE_ENV is 'production', else 'strict' */
  responseValidation?: ResponseValidationMode;
  /** Reads the request id put in error bodies. @default none */
  requestId?: (ctx: Ctx) => string | undefined;
  /** Receives response-validation failures. @default console.error */
  logger?: { error(details: Record<string, unknown>, message: string): void };
  /** Largest JSON body accepted, in bytes; larger gives 413. @default 102400 (100 kB) */
  jsonLimit?: number;
  /** Checks per security scheme: a route gets 401 unless one of its requirements passes. Routes whose requirements use a scheme without a handler are left to the app. @default {} */
  securityHandlers?: Readonly<Record<string, ApiSecurityHandler<Ctx>>>;
  /** Serving of `/openapi.json` and `/api-docs`. @default { enabled: true } */
  docs?: DocsOptions;
}

/** The request as the binding read it. Header names lower case. */
export interface RawRequest {
  params: unknown;
  query: unknown;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: unknown;
}

/** An answer the binding sends as is. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const reply = (status: number, body?: unknown) => ({ status, body });

function toIssues(location: IssueLocation | 'response', error: z.ZodError, into: ValidationIssue[]): void {
  for (const issue of error.issues) {
    into.push({
      location,
      path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: issue.message,
      code: issue.code,
    });
  }
}

/** One route, prepared once: its checks in the order the Express router runs them. */
export interface PreparedRoute<Ctx> {
  readonly route: RouteDefinition;
  /** Whether the route reads a JSON body. */
  readonly hasBody: boolean;
  /** Security, validation, the handler and response validation: the answer to send. */
  run(ctx: Ctx, raw: RawRequest): Promise<Answer>;
}

/** Validated settings and every route prepared, plus the document (built once). */
export interface ApiCore<Ctx> {
  readonly openapi: OpenApi;
  readonly routes: readonly PreparedRoute<Ctx>[];
  readonly jsonLimit: number;
  /** The error answer of a status the document describes (401, 404, 413, 415, 500 ...). */
  statusAnswer(status: ErrorStatus, ctx: Ctx | undefined): Answer;
  /** The answer of an error this package knows (validation, JSON parsing, size), or undefined. */
  knownAnswer(error: unknown, ctx: Ctx | undefined): Answer | undefined;
  /** The API error body with a code and message of the binding's choosing (e.g. INVALID_JSON). */
  errorAnswer(status: number, code: string, message: string, ctx: Ctx | undefined): Answer;
}

/** Builds the framework-free half of the Fastify and Hono bindings; throws OpenApiOptionsError for bad options. */
export function createApiCore<Ctx>(options: ApiOptions<Ctx>): ApiCore<Ctx> {
  if (typeof options !== 'object' || options === null) throw new OpenApiOptionsError('options must be an object');
  if (!Array.isArray(options.routes)) throw new OpenApiOptionsError('routes must be an array of implement() results');
  const { mode, securityHandlers } = sharedBindingOptions(options);
  const jsonLimit = options.jsonLimit ?? 100 * 1024;
  if (!Number.isInteger(jsonLimit) || jsonLimit < 1)
    throw new OpenApiOptionsError('jsonLimit must be a positive number of bytes');
  const requestId = options.requestId ?? (() => undefined);
  const logger = options.logger ?? {
    error: (details: Record<string, unknown>, message: string) => console.error(message, details),
  };
  const strict = mode === 'strict';
  const idOf = (ctx: Ctx | undefined) => (ctx === undefined ? undefined : requestId(ctx));
  const openapi = createOpenApi({ ...options, routes: options.routes.map((entry) => entry.route) });

  const authorizer = (requirements: readonly SecurityRequirement[]) => {
    // A public alternative (`{}`), or a scheme without a handler: the app decides, nothing is enforced here.
    if (requirements.length === 0) return undefined;
    if (!requirements.every((r) => Object.keys(r).length > 0 && Object.keys(r).every((name) => securityHandlers[name])))
      return undefined;
    return async (ctx: Ctx) => {
      for (const requirement of requirements) {
        let ok = true;
        for (const name of Object.keys(requirement)) {
          if (!(await securityHandlers[name]!(ctx))) {
            ok = false;
            break;
          }
        }
        if (ok) return true;
      }
      return false;
    };
  };

  const prepare = ({ route, handler }: ImplementedApiRoute<RouteSpec, Ctx>): PreparedRoute<Ctx> => {
    const { params, query, headers, body } = route.request ?? {};
    const headerKeys = headers ? Object.keys(headers.shape).map((name) => [name, name.toLowerCase()] as const) : [];
    const responses = new Map<number, z.ZodType | null>(
      Object.entries(route.responses).map(([status, spec]) => [Number(status), spec.body ?? null]),
    );
    const authorize = authorizer(route.security ?? options.security ?? []);
    const run = handler as unknown as ApiRouteHandler<RouteSpec, Ctx>;
    return {
      route,
      hasBody: body !== undefined,
      async run(ctx, raw) {
        if (authorize && !(await authorize(ctx))) return { status: 401, body: statusError(401, idOf(ctx)) };
        let issues: ValidationIssue[] | undefined;
        const input = {
          params: raw.params,
          query: raw.query,
          headers: {},
          body: raw.body,
          reply,
        } as unknown as ApiInput<RouteSpec>;
        if (params) {
          const result = params.safeParse(raw.params);
          if (result.success) input.params = result.data as never;
          else toIssues('params', result.error, (issues ??= []));
        }
        if (query) {
          const result = query.safeParse(raw.query);
          if (result.success) input.query = result.data as never;
          else toIssues('query', result.error, (issues ??= []));
        }
        if (headers) {
          const values: Record<string, unknown> = {};
          for (const [name, lower] of headerKeys)
            if (raw.headers[lower] !== undefined) values[name] = raw.headers[lower];
          const result = headers.safeParse(values);
          if (result.success) input.headers = result.data as never;
          else toIssues('headers', result.error, (issues ??= []));
        }
        if (body) {
          const result = body.safeParse(raw.body);
          if (result.success) input.body = result.data as never;
          else toIssues('body', result.error, (issues ??= []));
        }
        if (issues) return answerOf(knownError(new RequestValidationError(issues), idOf(ctx), false)!);
        const result = (await run(input, ctx)) as { status: number; body?: unknown; headers?: Record<string, string> };
        const { status } = result;
        const schema = responses.get(status);
        // Error bodies are shaped by the error handling, not by the route's schemas; an empty answer is not validated.
        if (mode === 'off' || (schema === undefined && status >= 400) || result.body === undefined)
          return result as Answer;
        const failures: ValidationIssue[] = [];
        let output: unknown = result.body;
        if (schema === undefined)
          failures.push({
            location: 'response',
            path: [],
            message: `status ${status} is not documented for this route`,
            code: 'undocumented_status',
          });
        else if (schema === null)
          failures.push({
            location: 'response',
            path: [],
            message: `status ${status} is documented without a body`,
            code: 'unexpected_body',
          });
        else {
          const parsed = schema.safeParse(result.body);
          if (parsed.success) output = parsed.data;
          else toIssues('response', parsed.error, failures);
        }
        if (failures.length === 0) return { status, body: output, headers: result.headers };
        const error = new ResponseValidationError(route.label, status, failures);
        logger.error(
          { code: error.code, route: route.label, status, issues: failures, requestId: idOf(ctx) },
          error.message,
        );
        if (!strict) return result as Answer;
        return answerOf(knownError(error, idOf(ctx), true)!);
      },
    };
  };

  const answerOf = ([status, body]: [number, ApiErrorBody]): Answer => ({ status, body });
  return {
    openapi,
    routes: options.routes.map((entry) => prepare(entry as ImplementedApiRoute<RouteSpec, Ctx>)),
    jsonLimit,
    statusAnswer: (status, ctx) => ({ status, body: statusError(status, idOf(ctx)) }),
    knownAnswer(error, ctx) {
      const known = knownError(error, idOf(ctx), strict);
      return known ? answerOf(known) : undefined;
    },
    errorAnswer: (status, code, message, ctx) => ({ status, body: errorBody(code, message, idOf(ctx)) }),
  };
}

/** The media types parsed as JSON: `application/json` and `application/*+json`, parameters allowed. */
export function isJsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:json|[a-z0-9!#$&^_.-]+\+json)\s*(?:;|$)/i.test(contentType);
}

/** A body is announced by Transfer-Encoding or a non-zero Content-Length (`Content-Length: 0` is no body). */
export function announcesBody(headers: RawRequest['headers']): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** A query string as Express 5 and Fastify read it: repeated keys become arrays, on a null-prototype object (`?__proto__=` is a plain key). */
export function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of search) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
