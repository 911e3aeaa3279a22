import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { z } from 'zod';
import { createOpenApi } from '../document.js';
import { OpenApiOptionsError, RequestValidationError, ResponseValidationError } from '../errors.js';
import { sharedBindingOptions, type ResponseValidationMode } from '../http/binding-options.js';
import { createDocsRouter, type DocsOptions } from './docs.js';
import { defaultRequestId, knownError, statusError, type RequestIdReader } from './http-errors.js';
import type { ApiHandler, ApiLogger, ImplementedRoute, SecurityHandler } from './types.js';
import type {
  HttpMethod,
  IssueLocation,
  OpenApi,
  OpenApiOptions,
  ResolvedErrorCatalog,
  RouteDefinition,
  RouteSpec,
  ValidationIssue,
} from '../types.js';

/** What to do when a handler sends a body that does not match its documented schema. */
export type { ResponseValidationMode } from '../http/binding-options.js';

/** Options of `createApiRouter`: the document options plus how requests are handled. */
export interface ApiRouterOptions extends Omit<OpenApiOptions, 'routes'> {
  /** The implemented routes, from `implement(route, handler)`. */
  routes: readonly ImplementedRoute[];
  /** `strict`: an invalid response becomes a 500 and is logged; `log`: it is logged and sent; `off`: not checked. @default 'log' when NODE_ENV is 'production', else 'strict' */
  responseValidation?: ResponseValidationMode;
  /** Reads the request id put in error bodies. @default `res.locals.requestId`, then `req.id` */
  requestId?: RequestIdReader;
  /** Receives response-validation failures. @default console.error */
  logger?: ApiLogger;
  /** Parse JSON bodies for routes with a body schema (skipped when the app already parsed them). @default true */
  parseJson?: boolean;
  /** Largest JSON body accepted (bytes or a string like '100kb'); larger gives 413. @default '100kb' */
  jsonLimit?: number | string;
  /** Checks per security scheme: a route gets 401 unless one of its requirements passes. Routes whose requirements use a scheme without a handler are left to the app's own middleware. @default {} */
  securityHandlers?: Readonly<Record<string, SecurityHandler>>;
  /** Serving of `/openapi.json` and `/api-docs` (see `docsRouter`). @default { enabled: true } */
  docs?: DocsOptions;
  /** Path matching of the router: `caseSensitive` (`/Users` is not `/users`) and `strict` (`/users/` is not `/users`). @default Express's: both false */
  routing?: { caseSensitive?: boolean; strict?: boolean };
}

/** What `createApiRouter` returns. */
export interface ApiRouter {
  /** The Express router with every route; mount it at each server prefix (e.g. `/api` and `/v1/api`). */
  readonly router: Router;
  /** Serves `/openapi.json` and `/api-docs` (an empty router when docs are disabled); mount it at the app root. */
  readonly docsRouter: Router;
  /** The document, built once at construction, and its JSON. */
  readonly openapi: OpenApi;
}

/** Pairs a route definition with its handler; the handler's `req` and `res.reply` are typed from the schemas. */
export function implement<T extends RouteSpec>(
  route: RouteDefinition<T>,
  handler: ApiHandler<T>,
  options: { before?: readonly RequestHandler[] } = {},
): ImplementedRoute<T> {
  if (typeof handler !== 'function') throw new OpenApiOptionsError(`${route.label}: handler must be a function`);
  return { route, handler, before: options.before ?? [] };
}

interface Settings {
  responseValidation: ResponseValidationMode;
  requestId: RequestIdReader;
  logger: ApiLogger;
  parseJson: boolean;
  jsonLimit: number | string;
  securityHandlers: Readonly<Record<string, SecurityHandler>>;
  errors: ResolvedErrorCatalog;
}

function settingsOf(options: ApiRouterOptions, errors: ResolvedErrorCatalog): Settings {
  const { mode, securityHandlers } = sharedBindingOptions(options);
  const jsonLimit = options.jsonLimit ?? '100kb';
  if (typeof jsonLimit !== 'number' && typeof jsonLimit !== 'string')
    throw new OpenApiOptionsError('jsonLimit must be a number of bytes or a size string');
  return {
    responseValidation: mode,
    requestId: options.requestId ?? defaultRequestId,
    logger: options.logger ?? { error: (details, message) => console.error(message, details) },
    parseJson: options.parseJson ?? true,
    jsonLimit,
    securityHandlers,
    errors,
  };
}

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

function securityMiddleware(
  requirements: readonly Record<string, string[]>[],
  settings: Settings,
): RequestHandler | undefined {
  // A public alternative (`{}`), or a requirement using a scheme without a handler, means this
  // router cannot decide alone: the app's own middleware does, so nothing is enforced here.
  if (requirements.length === 0) return undefined;
  const decidable = requirements.every(
    (r) => Object.keys(r).length > 0 && Object.keys(r).every((name) => settings.securityHandlers[name]),
  );
  if (!decidable) return undefined;
  return async (req, res, next) => {
    for (const requirement of requirements) {
      let ok = true;
      for (const name of Object.keys(requirement)) {
        if (!(await settings.securityHandlers[name]!(req))) {
          ok = false;
          break;
        }
      }
      if (ok) return next();
    }
    res.status(401).json(statusError(401, settings.requestId(req, res), settings.errors));
  };
}

// A body is announced by Transfer-Encoding or a non-zero Content-Length. Unlike type-is's hasBody
// (used by req.is and express.json), which counts `Content-Length: 0` as a body, this one
// deliberately does not: an empty POST goes on to body validation and gets a 400, not a 415.
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

// The media types express.json() parses. The 415 check asks type-is the same question through
// req.is, so a body is either parsed or refused, never skipped by the parser and then found missing.
const JSON_TYPES = ['application/json', 'application/*+json'];

// Validation and the handler share one layer: Express 5 still awaits the handler's promise and
// forwards its rejection to the error handlers, and the request skips one dispatch step.
function validatingHandler(route: RouteDefinition, handler: RequestHandler, settings: Settings): RequestHandler {
  const { params, query, headers, body } = route.request ?? {};
  const headerKeys = headers ? Object.keys(headers.shape).map((name) => [name, name.toLowerCase()] as const) : [];
  const responses = new Map<number, z.ZodType | null>(
    Object.entries(route.responses).map(([status, spec]) => [Number(status), spec.body ?? null]),
  );
  const validateResponses = settings.responseValidation !== 'off';
  const strict = settings.responseValidation === 'strict';

  return (req: Request, res: Response, next: NextFunction) => {
    let issues: ValidationIssue[] | undefined;
    if (body && hasBody(req) && !req.is(JSON_TYPES)) {
      return void res.status(415).json(statusError(415, settings.requestId(req, res), settings.errors));
    }
    if (params) {
      const result = params.safeParse(req.params);
      if (result.success) req.params = result.data as Request['params'];
      else toIssues('params', result.error, (issues ??= []));
    }
    if (query) {
      const result = query.safeParse(req.query);
      // Express 5 makes req.query a getter; an own property shadows it for this request.
      if (result.success)
        Object.defineProperty(req, 'query', {
          value: result.data,
          writable: true,
          configurable: true,
          enumerable: true,
        });
      else toIssues('query', result.error, (issues ??= []));
    }
    if (headers) {
      const raw: Record<string, unknown> = {};
      for (const [name, lower] of headerKeys) if (req.headers[lower] !== undefined) raw[name] = req.headers[lower];
      const result = headers.safeParse(raw);
      if (result.success) (req as Request & { parsedHeaders: unknown }).parsedHeaders = result.data;
      else toIssues('headers', result.error, (issues ??= []));
    }
    if (body) {
      const result = body.safeParse(req.body);
      if (result.success) req.body = result.data;
      else toIssues('body', result.error, (issues ??= []));
    }
    if (issues) {
      const [status, errorJson] = knownError(
        new RequestValidationError(issues),
        settings.requestId(req, res),
        false,
        settings.errors,
      )!;
      return void res.status(status).json(errorJson);
    }

    const send = res.json;
    const reply = (status: number, payload?: unknown) => {
      if (payload === undefined) res.status(status).end();
      else res.status(status).json(payload);
    };
    (res as Response & { reply: typeof reply }).reply = reply;
    if (validateResponses) {
      res.json = function validatedJson(this: Response, payload: unknown) {
        const status = this.statusCode;
        const schema = responses.get(status);
        // Error bodies are shaped by the error handlers, not by the route's schemas.
        if (schema === undefined && status >= 400) return send.call(this, payload);
        const failures: ValidationIssue[] = [];
        let output = payload;
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
          const result = schema.safeParse(payload);
          if (result.success) output = result.data;
          else toIssues('response', result.error, failures);
        }
        if (failures.length === 0) return send.call(this, output);
        const error = new ResponseValidationError(route.label, status, failures);
        settings.logger.error(
          { code: error.code, route: route.label, status, issues: failures, requestId: settings.requestId(req, this) },
          error.message,
        );
        if (!strict) return send.call(this, payload);
        this.status(500);
        return send.call(this, knownError(error, settings.requestId(req, this), true, settings.errors)![1]);
      };
    }
    return handler(req, res, next);
  };
}

// Errors raised inside the router's own chain (body parsing, validation) answered in the API format;
// anything else goes on to the app's error handler.
function routerErrorHandler(settings: Settings) {
  return (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const known = knownError(
      error,
      settings.requestId(req, res),
      settings.responseValidation === 'strict',
      settings.errors,
    );
    if (!known) return next(error);
    res.status(known[0]).json(known[1]);
  };
}

/**
 * Builds the Express 5 router (authentication, JSON parsing, validation, typed handler, response
 * validation for every route) and the OpenAPI document, once, from the same definitions.
 */
export function createApiRouter(options: ApiRouterOptions): ApiRouter {
  if (typeof options !== 'object' || options === null) throw new OpenApiOptionsError('options must be an object');
  if (!Array.isArray(options.routes)) throw new OpenApiOptionsError('routes must be an array of implement() results');
  // createOpenApi picks the document options it knows; the router-only ones are ignored there.
  const openapi = createOpenApi({ ...options, routes: options.routes.map((entry) => entry.route) });
  // The errors the router sends are the ones the document describes.
  const settings = settingsOf(options, openapi.errors);
  const router = express.Router({
    caseSensitive: options.routing?.caseSensitive ?? false,
    strict: options.routing?.strict ?? false,
  });
  const json = express.json({ limit: settings.jsonLimit, type: JSON_TYPES });
  for (const { route, handler, before } of options.routes) {
    const chain: RequestHandler[] = [];
    const security = securityMiddleware(route.security ?? options.security ?? [], settings);
    if (security) chain.push(security);
    chain.push(...before);
    if (route.request?.body && settings.parseJson) chain.push(json);
    chain.push(validatingHandler(route, handler as unknown as RequestHandler, settings));
    const method: HttpMethod = route.method;
    (router as unknown as Record<HttpMethod, (path: string, ...handlers: RequestHandler[]) => void>)[method](
      route.path,
      ...chain,
    );
  }
  router.use(routerErrorHandler(settings));
  const docsRouter = createDocsRouter(openapi, options.docs ?? {});
  return { router, docsRouter, openapi };
}
