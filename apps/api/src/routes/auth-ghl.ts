import { Router, type Request } from 'express';
import { readCookie } from '../auth/middleware.js';
import { setSessionCookie, type SessionCookie, type SessionStore } from '../auth/sessions.js';
import { safeEqual } from '../auth/tokens.js';
import type { Database, Queryable } from '../db/database.js';
import { GhlError } from '../ghl/errors.js';
import type { OAuthClient } from '../ghl/oauth.js';
import type { OAuthStateStore } from '../ghl/oauth-state.js';
import type { TokenStore } from '../ghl/token-store.js';
import { HttpError } from '../http/errors.js';
import { ROUTER_OPTIONS } from '../http/routing.js';

/** Scopes the analyzer needs (research §1.3). */
export const GHL_SCOPES = [
  'workflows.readonly',
  'locations.readonly',
  'locations/customFields.readonly',
  'locations/customValues.readonly',
  'calendars.readonly',
  'opportunities.readonly',
  'users.readonly',
  'forms.readonly',
] as const;

/**
 * The state is also bound to the browser that started the install, so a stolen callback URL cannot log anyone in. With
 * Secure cookies (production) it is a `__Host-` cookie (Secure, Path=/, host-only), which a sibling subdomain cannot
 * set: no login CSRF by tossing a cookie that holds the attacker's own state.
 */
const stateCookieName = (secure: boolean) => (secure ? '__Host-ghl_oauth_state' : 'ghl_oauth_state');

export interface GhlAuthRouterOptions {
  db: Database;
  states: OAuthStateStore;
  oauth: OAuthClient;
  tokens: TokenStore;
  sessions: SessionStore;
  cookie: SessionCookie;
  clientId: string;
  /** GHL's location chooser. */
  authorizeUrl: string;
  /** This app's `/auth/ghl/callback` as registered with GHL. */
  redirectUri: string;
  /** Where the browser goes after a successful install. */
  frontendUrl: string;
  /** Called after a location (re)connects, e.g. to drop its cached data. */
  onConnected?: (locationId: string) => void | Promise<void>;
}

/** Creates or finds the account of a GHL company and upserts the location under it; returns the account id. */
export async function upsertAccountAndLocation(
  q: Queryable,
  input: { companyId?: string; locationId: string; name?: string | null },
): Promise<string> {
  // GHL gives no e-mail in the token answer; the company id is the account's stable identity.
  const email = `company-${(input.companyId ?? input.locationId).toLowerCase()}@ghl.invalid`;
  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO accounts (email) VALUES ($1) ON CONFLICT ((lower(email))) DO UPDATE SET updated_at = now() RETURNING id`,
    [email],
  );
  const accountId = rows[0]!.id;
  const { rows: owner } = await q.query<{ account_id: string }>(
    `INSERT INTO locations (id, account_id, name) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET name = COALESCE(EXCLUDED.name, locations.name), updated_at = now() RETURNING account_id`,
    [input.locationId, accountId, input.name ?? null],
  );
  return owner[0]!.account_id;
}

const query = (req: Request, name: string) =>
  typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined;

/** `GET /auth/ghl/install` and `GET /auth/ghl/callback`: the Marketplace OAuth install flow. */
export function createGhlAuthRouter(options: GhlAuthRouterOptions): Router {
  const router = Router(ROUTER_OPTIONS);
  const STATE_COOKIE = stateCookieName(options.cookie.secure);
  const stateCookie = {
    httpOnly: true,
    secure: options.cookie.secure,
    sameSite: 'lax' as const,
    path: options.cookie.secure ? '/' : '/auth/ghl',
    maxAge: 10 * 60_000,
  };

  router.get('/auth/ghl/install', async (_req, res) => {
    const state = await options.states.create();
    const url = new URL(options.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', options.redirectUri);
    url.searchParams.set('client_id', options.clientId);
    url.searchParams.set('scope', GHL_SCOPES.join(' '));
    url.searchParams.set('state', state);
    res.cookie(STATE_COOKIE, state, stateCookie);
    res.redirect(302, url.toString());
  });

  router.get('/auth/ghl/callback', async (req, res) => {
    const state = query(req, 'state');
    const code = query(req, 'code');
    const bound = readCookie(req, STATE_COOKIE);
    res.clearCookie(STATE_COOKIE, { ...stateCookie, maxAge: undefined });
    // Consumed whatever happens next: a state is good for one attempt.
    const known = state ? await options.states.consume(state) : false;
    if (!state || !known || !bound || !safeEqual(bound, state)) {
      throw new HttpError(
        400,
        'OAUTH_STATE_INVALID',
        'The install link is invalid or expired; start the installation again',
      );
    }
    if (!code || code.length > 2048)
      throw new HttpError(400, 'OAUTH_CODE_MISSING', 'GHL did not return an authorization code');
    let tokens;
    try {
      tokens = await options.oauth.exchangeCode(code, options.redirectUri);
    } catch (error) {
      if (error instanceof GhlError)
        throw new HttpError(
          502,
          'GHL_OAUTH_FAILED',
          'GHL refused the authorization code; start the installation again',
          { cause: error },
        );
      throw error;
    }
    const locationId = tokens.locationId;
    if (!locationId)
      throw new HttpError(
        400,
        'GHL_AGENCY_INSTALL_UNSUPPORTED',
        'Install the app on a sub-account (location), not on the agency',
      );
    const accountId = await options.db.transaction(async (q) => {
      const id = await upsertAccountAndLocation(q, { companyId: tokens.companyId, locationId });
      await options.tokens.save(q, { ...tokens, locationId });
      return id;
    });
    await options.onConnected?.(locationId);
    // A new login ends the session the browser presented (no two live sessions for one browser).
    if (req.principal?.sessionToken) await options.sessions.revoke(req.principal.sessionToken);
    const session = await options.sessions.create(accountId, locationId, options.cookie.maxAgeMs);
    setSessionCookie(res, options.cookie, session);
    res.redirect(302, options.frontendUrl);
  });

  return router;
}
