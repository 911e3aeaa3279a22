import { z } from 'zod';
import { GhlError } from './errors.js';

/** The token endpoint's answer (location tokens), as far as the app relies on it. */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().positive(),
  scope: z.string().default(''),
  userType: z.string().optional(),
  locationId: z.string().optional(),
  companyId: z.string().optional(),
  userId: z.string().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** Options of `createOAuthClient`. */
export interface OAuthClientOptions {
  /** API base URL; the token endpoint is `${baseUrl}/oauth/token`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Timeout of one token request. @default 10000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** GHL's OAuth token endpoint: code exchange and refresh (form-encoded, as GHL requires). */
export interface OAuthClient {
  exchangeCode(code: string, redirectUri: string): Promise<TokenResponse>;
  /** Uses (and so invalidates) `refreshToken`; the answer holds the new pair. */
  refresh(refreshToken: string): Promise<TokenResponse>;
}

export function createOAuthClient(options: OAuthClientOptions): OAuthClient {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/oauth/token`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? globalThis.fetch;

  async function post(form: Record<string, string>, what: 'exchange' | 'refresh'): Promise<TokenResponse> {
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          client_id: options.clientId,
          client_secret: options.clientSecret,
          user_type: 'Location',
          ...form,
        }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (error) {
      throw new GhlError('GHL_OAUTH_FAILED', `the GHL token endpoint could not be reached (${what})`, {
        cause: error,
        endpoint: 'POST /oauth/token',
      });
    }
    if (!res.ok) {
      // 400/401 on refresh means the refresh token is dead (used, revoked, uninstalled): the location must reconnect.
      const code =
        what === 'refresh' && (res.status === 400 || res.status === 401) ? 'GHL_REFRESH_REJECTED' : 'GHL_OAUTH_FAILED';
      let reason = '';
      try {
        reason = String((JSON.parse(text) as { error?: unknown }).error ?? '');
      } catch {
        // The body is not JSON; the status says enough.
      }
      throw new GhlError(
        code,
        `the GHL token endpoint answered ${res.status}${/^[a-z_]{1,40}$/.test(reason) ? ` (${reason})` : ''} on ${what}`,
        { status: res.status, endpoint: 'POST /oauth/token' },
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new GhlError('GHL_INVALID_RESPONSE', 'the GHL token endpoint answered with a body that is not JSON', {
        cause: error,
        endpoint: 'POST /oauth/token',
      });
    }
    const parsed = tokenResponseSchema.safeParse(body);
    if (!parsed.success)
      throw new GhlError('GHL_INVALID_RESPONSE', 'the GHL token endpoint answered without a token pair', {
        endpoint: 'POST /oauth/token',
      });
    return parsed.data;
  }

  return {
    exchangeCode: (code, redirectUri) =>
      post({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }, 'exchange'),
    refresh: (refreshToken) => post({ grant_type: 'refresh_token', refresh_token: refreshToken }, 'refresh'),
  };
}
