import type { Request, RequestHandler, Response } from 'express';
import { HttpError, unauthorized } from '../http/errors.js';
import type { ApiKeyScope, ApiKeyStore } from './api-keys.js';
import type { CredentialFailures } from './credential-failures.js';
import type { Principal } from './principal.js';
import type { SessionCookie, SessionStore } from './sessions.js';
import { safeEqual } from './tokens.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `authenticate` when a valid session cookie or API key came with the request. */
      principal?: Principal;
    }
  }
}

/** Reads one cookie from the Cookie header without a parser dependency. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/**
 * Identifies the caller from `Authorization: Bearer ak_...` or the session cookie; sets `req.principal` or leaves it
 * unset. It never rejects: routes decide with `requireAuth`, and the rate limiter (once wired before it) keys by IP.
 */
export function authenticate(deps: {
  sessions: SessionStore;
  apiKeys: ApiKeyStore;
  cookie: SessionCookie;
  failures?: CredentialFailures;
}): RequestHandler {
  const peek = principalResolver(deps);
  return async (req, res, next) => {
    await peek(req, res);
    next();
  };
}

/**
 * Resolves the caller once per request, without ever failing (a bad credential is anonymous). The rate limiter calls
 * it before body parsing to key and tier the request; `authenticate` then reuses the answer instead of a second lookup.
 * With `failures`, the client address's budget of failed lookups is decided first: an address that spent it has its
 * credentials ignored (no lookup at all) until the window ends.
 */
export function principalResolver(deps: {
  sessions: SessionStore;
  apiKeys: ApiKeyStore;
  cookie: SessionCookie;
  failures?: CredentialFailures;
}): (req: Request, res: Response) => Promise<Principal | undefined> {
  return async (req, res) => {
    const locals = res.locals as { principal?: Promise<Principal | undefined> };
    locals.principal ??= (async () => {
      const key = bearer(req);
      const cookie = key?.startsWith('ak_') ? undefined : readCookie(req, deps.cookie.name);
      if (!key?.startsWith('ak_') && !cookie) return undefined;
      const ip = req.ip ?? 'unknown';
      if (deps.failures && !deps.failures.allows(ip)) return undefined;
      const principal = key?.startsWith('ak_') ? await deps.apiKeys.verify(key) : await deps.sessions.verify(cookie!);
      if (!principal) deps.failures?.fail(ip);
      return principal;
    })();
    req.principal = await locals.principal;
    return req.principal;
  };
}

/** 403 for an API key without `scope`; sessions (a person signed in to the location) hold every scope. */
export function requireScope(scope: ApiKeyScope): RequestHandler {
  return (req, _res, next) => {
    const p = req.principal;
    next(
      p?.kind === 'api-key' && !p.scopes?.includes(scope)
        ? new HttpError(403, 'INSUFFICIENT_SCOPE', `This API key lacks the "${scope}" scope`)
        : undefined,
    );
  };
}

/** 401 unless `authenticate` found a principal. */
export const requireAuth: RequestHandler = (req, _res, next) => {
  next(req.principal ? undefined : unauthorized());
};

/**
 * Guards `/internal/*` and `/health/detailed` with the internal token (`Authorization: Bearer` or `X-Internal-Token`).
 * Answers 404 rather than 401 so the endpoints are not advertised to the public internet.
 */
export function requireInternalToken(token: string): RequestHandler {
  return (req, _res, next) => {
    next(hasInternalToken(req, token) ? undefined : new HttpError(404, 'NOT_FOUND', 'Route not found'));
  };
}

/** Whether the request carries the internal token (`Authorization: Bearer` or `X-Internal-Token`), compared in constant time. */
export function hasInternalToken(req: Request, token: string): boolean {
  const header = req.headers['x-internal-token'];
  const given = typeof header === 'string' ? header : bearer(req);
  return given !== undefined && given !== '' && safeEqual(given, token);
}
