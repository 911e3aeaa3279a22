import { OpenApiOptionsError } from '../errors.js';

/** What a binding does when a handler's response does not match its schema. */
export type ResponseValidationMode = 'strict' | 'log' | 'off';

/**
 * Validates the options every binding (Express, Fastify, Hono) shares: the response validation mode (default `log` in
 * production, `strict` elsewhere) and the security handlers, each a function named after a declared security scheme.
 */
export function sharedBindingOptions<Handler>(options: {
  responseValidation?: ResponseValidationMode;
  securityHandlers?: Readonly<Record<string, Handler>>;
  securitySchemes?: object;
}): { mode: ResponseValidationMode; securityHandlers: Readonly<Record<string, Handler>> } {
  const mode = options.responseValidation ?? (process.env.NODE_ENV === 'production' ? 'log' : 'strict');
  if (!['strict', 'log', 'off'].includes(mode))
    throw new OpenApiOptionsError(`responseValidation must be "strict", "log" or "off", got "${String(mode)}"`);
  const securityHandlers = options.securityHandlers ?? {};
  for (const [name, handler] of Object.entries(securityHandlers)) {
    if (typeof handler !== 'function') throw new OpenApiOptionsError(`securityHandlers.${name} must be a function`);
    if (!(name in (options.securitySchemes ?? {})))
      throw new OpenApiOptionsError(`securityHandlers.${name} has no matching security scheme`);
  }
  return { mode, securityHandlers };
}
