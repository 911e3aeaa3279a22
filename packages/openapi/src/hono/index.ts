import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { baseRoutePath } from 'hono/route';
import { OpenApiOptionsError } from '../errors.js';
import { docsContent } from '../http/docs.js';
import {
  announcesBody,
  createApiCore,
  isJsonType,
  queryObject,
  type Answer,
  type ApiOptions,
  type ApiRouteHandler,
  type ImplementedApiRoute,
} from '../http/route-handler.js';
import type { OpenApi, RouteDefinition, RouteSpec } from '../types.js';

export type {
  ApiInput,
  ApiOptions,
  ApiResult,
  ApiRouteHandler,
  ApiSecurityHandler,
  ImplementedApiRoute,
  ResponseValidationMode,
} from '../http/route-handler.js';
export type { DocsOptions } from '../http/docs.js';

/** Options of `createApi` on Hono: the Express router's, with handlers and security checks receiving the Hono `Context`. */
export type HonoApiOptions = ApiOptions<Context>;

/** What `createApi` returns: the routes and the docs as Hono apps to mount, and the document. */
export interface HonoApi {
  /** Every route (security, JSON parsing, validation, typed handler, response validation): `app.route('/api', api.app)`. */
  readonly app: Hono;
  /** Serves `/openapi.json` and `/api-docs` (no routes when docs are disabled): `app.route('/', api.docs)`. */
  readonly docs: Hono;
  readonly openapi: OpenApi;
}

/** Pairs a route definition with its handler: `(input, c) => input.reply(status, body)`, typed from the schemas. */
export function implement<T extends RouteSpec>(
  route: RouteDefinition<T>,
  handler: ApiRouteHandler<NoInfer<T>, Context>,
): ImplementedApiRoute<T, Context> {
  if (typeof handler !== 'function') throw new OpenApiOptionsError(`${route.label}: handler must be a function`);
  return { route, handler: handler as ApiRouteHandler<T, Context> };
}

function respond(answer: Answer): Response {
  const headers = new Headers(answer.headers);
  if (answer.body === undefined) return new Response(null, { status: answer.status, headers });
  headers.set('Content-Type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(answer.body), { status: answer.status, headers });
}

/** Builds the Hono 4 apps and the OpenAPI document, once, from the same definitions. */
export function createApi(options: HonoApiOptions): HonoApi {
  const core = createApiCore(options);
  const app = new Hono();
  const limit = bodyLimit({ maxSize: core.jsonLimit, onError: (c) => respond(core.statusAnswer(413, c)) });
  for (const prepared of core.routes) {
    const handler = async (c: Context): Promise<Response> => {
      const headers = Object.fromEntries(c.req.raw.headers);
      let body: unknown;
      if (prepared.hasBody && announcesBody(headers)) {
        if (!isJsonType(headers['content-type'])) return respond(core.statusAnswer(415, c));
        const text = await c.req.text();
        if (text !== '') {
          try {
            body = JSON.parse(text);
          } catch {
            return respond(core.errorAnswer(400, 'INVALID_JSON', 'The request body is not valid JSON', c));
          }
        }
      }
      const query = queryObject(new URL(c.req.url).searchParams);
      return respond(await prepared.run(c, { params: c.req.param(), query, headers, body }));
    };
    if (prepared.hasBody) app.on(prepared.route.method.toUpperCase(), prepared.route.path, limit, handler);
    else app.on(prepared.route.method.toUpperCase(), prepared.route.path, handler);
  }
  app.onError((error, c) => {
    const known = core.knownAnswer(error, c);
    if (known) return respond(known);
    throw error;
  });
  const docs = new Hono();
  const content = docsContent(core.openapi, options.docs ?? {});
  if (content) {
    const answer = (c: Context) => {
      // The mount path of the docs app (`app.route('/x', api.docs)`): links in the page start with it.
      const base = baseRoutePath(c);
      const prefix = base === '/' ? '' : base;
      const path = c.req.path.slice(prefix.length);
      const found = content.answer(path, prefix);
      if (!found) return c.notFound();
      return c.body(
        typeof found.body === 'string' ? found.body : new Uint8Array(found.body),
        found.status,
        found.headers,
      );
    };
    docs.get(content.jsonPath, answer);
    docs.get(content.uiPath, answer);
    docs.get(`${content.uiPath}/:asset`, answer);
  }
  return { app, docs, openapi: core.openapi };
}
