import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { RouteDefinition, RouteSpec } from '../types.js';

type Part<T extends RouteSpec, K extends 'params' | 'query' | 'headers' | 'body', Fallback> = T['request'] extends {
  [P in K]: infer S extends z.ZodType;
}
  ? z.output<S>
  : Fallback;

/** `req.params` after validation. */
export type ParamsOf<T extends RouteSpec> = Part<T, 'params', Record<string, string>>;
/** `req.query` after validation. */
export type QueryOf<T extends RouteSpec> = Part<T, 'query', Record<string, unknown>>;
/** `req.body` after validation. */
export type BodyOf<T extends RouteSpec> = Part<T, 'body', unknown>;
/** `req.parsedHeaders` after validation. */
export type HeadersOf<T extends RouteSpec> = Part<T, 'headers', Record<string, never>>;

/** The arguments of `res.reply(status, ...)`: the body as the response schema accepts it, or nothing. */
export type ReplyArgs<T extends RouteSpec, S extends keyof T['responses']> = T['responses'][S] extends {
  body: infer B extends z.ZodType;
}
  ? [body: z.input<B>]
  : [];

/** The Express request a handler sees: params, query and body are the parsed, typed values. */
export type ApiRequest<T extends RouteSpec> = Request<ParamsOf<T>, unknown, BodyOf<T>, QueryOf<T>> & {
  /** The declared request headers, parsed by `request.headers`. */
  parsedHeaders: HeadersOf<T>;
};

/** The Express response a handler sees, with `reply`, which only accepts documented statuses and bodies. */
export type ApiResponse<T extends RouteSpec> = Response & {
  /** Sends `status` with a body of that status's schema (validated by response validation), or an empty body. */
  reply<S extends keyof T['responses'] & number>(status: S, ...body: ReplyArgs<T, S>): void;
};

/** A route's handler: Express 5 awaits the returned promise and forwards rejections to `next`. */
export type ApiHandler<T extends RouteSpec> = (req: ApiRequest<T>, res: ApiResponse<T>, next: NextFunction) => unknown;

/** A route definition paired with its handler, from `implement`. */
export interface ImplementedRoute<T extends RouteSpec = RouteSpec> {
  readonly route: RouteDefinition<T>;
  readonly handler: ApiHandler<T>;
  /** Middleware run after authentication and before validation (e.g. a per-route rate limiter). */
  readonly before: readonly RequestHandler[];
}

/** Decides whether a request satisfies one security scheme (e.g. a valid session cookie). */
export type SecurityHandler = (req: Request) => boolean | Promise<boolean>;

/** Where response-validation failures go: pino-compatible (`logger.error(details, message)`). */
export interface ApiLogger {
  error(details: Record<string, unknown>, message: string): void;
}
