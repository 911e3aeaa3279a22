import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { OpenApiOptionsError } from '../errors.js';
import { docsContent } from '../http/docs.js';
import {
  announcesBody,
  createApiCore,
  isJsonType,
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

/** Options of `createApi` on Fastify: the Express router's, with handlers and security checks receiving the `FastifyRequest`. */
export type FastifyApiOptions = ApiOptions<FastifyRequest>;

/** What `createApi` returns: the routes and the docs as Fastify plugins, and the document. */
export interface FastifyApi {
  /** Registers every route (security, JSON parsing, validation, typed handler, response validation): `app.register(api.plugin, { prefix: '/api' })`. */
  readonly plugin: FastifyPluginCallback;
  /** Serves `/openapi.json` and `/api-docs` (nothing when docs are disabled); register it without a prefix. */
  readonly docsPlugin: FastifyPluginCallback;
  readonly openapi: OpenApi;
}

/** Pairs a route definition with its handler: `(input, request) => input.reply(status, body)`, typed from the schemas. */
export function implement<T extends RouteSpec>(
  route: RouteDefinition<T>,
  handler: ApiRouteHandler<NoInfer<T>, FastifyRequest>,
): ImplementedApiRoute<T, FastifyRequest> {
  if (typeof handler !== 'function') throw new OpenApiOptionsError(`${route.label}: handler must be a function`);
  return { route, handler: handler as ApiRouteHandler<T, FastifyRequest> };
}

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  reply.code(answer.status);
  if (answer.headers) reply.headers(answer.headers);
  return answer.body === undefined
    ? reply.send()
    : reply.type('application/json; charset=utf-8').send(JSON.stringify(answer.body));
}

/** Builds the Fastify 5 plugins and the OpenAPI document, once, from the same definitions. */
export function createApi(options: FastifyApiOptions): FastifyApi {
  const core = createApiCore(options);
  const plugin = (fastify: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void => {
    // JSON as express.json reads it: an empty body is no body (body validation answers), bad JSON is a coded 400.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser(
      /^application\/(?:json|[a-z0-9!#$&^_.-]+\+json)\s*(?:;|$)/i,
      { parseAs: 'string', bodyLimit: core.jsonLimit },
      (_req, text, parsed) => {
        if (text === '') return parsed(null, undefined);
        try {
          parsed(null, JSON.parse(text as string));
        } catch {
          parsed(Object.assign(new Error('invalid JSON'), { type: 'entity.parse.failed', statusCode: 400 }));
        }
      },
    );
    // Other media types are not parsed here: a route with a body schema answers 415 below.
    fastify.addContentTypeParser('*', { bodyLimit: core.jsonLimit }, (_req, _payload, parsed) =>
      parsed(null, undefined),
    );
    for (const prepared of core.routes) {
      fastify.route({
        method: prepared.route.method.toUpperCase() as 'GET',
        url: prepared.route.path,
        bodyLimit: core.jsonLimit,
        handler: async (request, reply) => {
          if (prepared.hasBody && announcesBody(request.headers) && !isJsonType(request.headers['content-type']))
            return send(reply, core.statusAnswer(415, request));
          return send(
            reply,
            await prepared.run(request, {
              params: request.params,
              query: request.query,
              headers: request.headers,
              body: request.body,
            }),
          );
        },
      });
    }
    fastify.setErrorHandler((error, request, reply) => {
      const code = (error as { code?: string }).code;
      if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, core.statusAnswer(413, request));
      if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return send(reply, core.statusAnswer(415, request));
      const known = core.knownAnswer(error, request);
      if (known) return send(reply, known);
      throw error;
    });
    done();
  };
  const docs = docsContent(core.openapi, options.docs ?? {});
  const docsPlugin = (fastify: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void => {
    if (docs) {
      const answer = (request: FastifyRequest, reply: FastifyReply) => {
        const prefix = fastify.prefix;
        const found = docs.answer(request.url.split('?')[0]!.slice(prefix.length), prefix);
        if (!found) return reply.callNotFound();
        return reply.code(found.status).headers(found.headers).send(found.body);
      };
      fastify.get(docs.jsonPath, answer);
      fastify.get(docs.uiPath, answer);
      fastify.get(`${docs.uiPath}/:asset`, answer);
    }
    done();
  };
  return { plugin, docsPlugin, openapi: core.openapi };
}
