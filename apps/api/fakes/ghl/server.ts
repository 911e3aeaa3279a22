// A fake GoHighLevel of our own, for tests and demo mode. It serves the documented API 2.0 endpoints the app uses
// (OAuth token endpoint, GET /workflows/, location inventory lists), a SIMULATED definition endpoint (GHL has no
// public one), GHL's X-RateLimit-* headers with a real per-location budget, and scripted faults (429, 5xx, hangs).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type Request, type Response } from 'express';

/** One location of the fake: its workflow definitions (canonical JSON) and inventory lists. */
export interface FakeLocation {
  name?: string;
  workflows: Array<Record<string, unknown>>;
  inventory: {
    customFields?: unknown[];
    customValues?: unknown[];
    calendars?: unknown[];
    pipelines?: unknown[];
    users?: unknown[];
    forms?: unknown[];
  };
}

/** A scripted answer for the next matching API request (OAuth excluded). */
export interface FakeFault {
  /** Only requests whose path starts with this. @default every API request */
  path?: string;
  /** Answer with this status (e.g. 429, 503). */
  status?: number;
  headers?: Record<string, string>;
  /** Accept the request and never answer (until the server closes). */
  hang?: boolean;
  /** Send the headers, then one byte every 200 ms, never finishing. */
  trickle?: boolean;
}

export interface FakeGhlOptions {
  locations: Record<string, FakeLocation>;
  /** @default 'fake-client-id' */
  clientId?: string;
  /** @default 'fake-client-secret' */
  clientSecret?: string;
  /** Lifetime of issued access tokens. @default 86399 */
  accessTokenTtlSec?: number;
  /** Requests per window per location before 429. @default 100 */
  rateLimitMax?: number;
  /** @default 10000 */
  rateLimitIntervalMs?: number;
  /** Delay of the token endpoint for refresh_token grants (to widen race windows in tests). @default 0 */
  refreshDelayMs?: number;
}

export interface FakeGhl {
  url: string;
  /** Counters and logs the tests assert on. */
  readonly stats: {
    refreshes: number;
    failedRefreshes: number;
    codeExchanges: number;
    /** Arrival times (ms) of API requests per location, 429s included. */
    requests: Map<string, number[]>;
  };
  /** Changeable at run time. */
  settings: { refreshDelayMs: number; failRefresh: boolean };
  /** Queues scripted faults, consumed in order by matching requests. */
  fault(...faults: FakeFault[]): void;
  /** An authorization code for `locationId`, as the chooser would hand out. */
  issueCode(locationId: string): string;
  /** Tokens for `locationId` without the OAuth dance (seeding). */
  grant(locationId: string): TokenResponse;
  /** The most requests of `locationId` that arrived within any `windowMs`. */
  maxInWindow(locationId: string, windowMs: number): number;
  close(): Promise<void>;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
  userType: 'Location';
  companyId: string;
  locationId: string;
  userId: string;
}

const SCOPES =
  'workflows.readonly locations.readonly locations/customFields.readonly locations/customValues.readonly calendars.readonly opportunities.readonly users.readonly forms.readonly';

/** Reads a fixture folder (the analyzer's layout): every workflow JSON plus `_locations.json`, grouped by location. */
export function fakeLocationsFromFolder(dir: string): Record<string, FakeLocation> {
  const inventory = JSON.parse(readFileSync(join(dir, '_locations.json'), 'utf8')) as {
    locations: Record<string, FakeLocation['inventory'] & { name?: string }>;
  };
  const out: Record<string, FakeLocation> = {};
  for (const [id, inv] of Object.entries(inventory.locations))
    out[id] = { name: inv.name, workflows: [], inventory: inv };
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json') || file.startsWith('_') || file === 'expected.json') continue;
    const def = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    const locationId = String(def.locationId);
    (out[locationId] ??= { workflows: [], inventory: {} }).workflows.push(def);
  }
  return out;
}

const token = (kind: string) => `fake-${kind}-${randomBytes(18).toString('base64url')}`;

export async function startFakeGhl(options: FakeGhlOptions): Promise<FakeGhl> {
  const clientId = options.clientId ?? 'fake-client-id';
  const clientSecret = options.clientSecret ?? 'fake-client-secret';
  const ttl = options.accessTokenTtlSec ?? 86_399;
  const max = options.rateLimitMax ?? 100;
  const interval = options.rateLimitIntervalMs ?? 10_000;
  const accessTokens = new Map<string, { locationId: string; expiresAt: number }>();
  const refreshTokens = new Map<string, string>();
  const codes = new Map<string, string>();
  const faults: FakeFault[] = [];
  const stats = { refreshes: 0, failedRefreshes: 0, codeExchanges: 0, requests: new Map<string, number[]>() };
  const settings = { refreshDelayMs: options.refreshDelayMs ?? 0, failRefresh: false };
  const hung = new Set<Response>();

  const grant = (locationId: string): TokenResponse => {
    const access = token('access');
    const refresh = token('refresh');
    accessTokens.set(access, { locationId, expiresAt: Date.now() + ttl * 1000 });
    refreshTokens.set(refresh, locationId);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: ttl,
      refresh_token: refresh,
      scope: SCOPES,
      userType: 'Location',
      companyId: 'fakeCompany0001',
      locationId,
      userId: 'fakeUser00001',
    };
  };

  const app = express();
  app.disable('x-powered-by');

  // The chooser: picks the requested (or first) location and redirects back with a code and the caller's state.
  app.get('/oauth/chooselocation', (req, res) => {
    const redirect = String(req.query.redirect_uri ?? '');
    if (req.query.client_id !== clientId || !/^https?:\/\//.test(redirect))
      return void res.status(400).json({ statusCode: 400, message: 'Invalid client or redirect_uri' });
    const locationId =
      typeof req.query.locationId === 'string' ? req.query.locationId : Object.keys(options.locations)[0]!;
    const url = new URL(redirect);
    url.searchParams.set('code', fakeIssueCode(locationId));
    if (typeof req.query.state === 'string') url.searchParams.set('state', req.query.state);
    res.redirect(302, url.toString());
  });

  const fakeIssueCode = (locationId: string) => {
    const code = token('code');
    codes.set(code, locationId);
    return code;
  };

  app.post('/oauth/token', express.urlencoded({ extended: false }), async (req, res) => {
    const body = req.body as Record<string, string | undefined>;
    if (!req.is('application/x-www-form-urlencoded'))
      return void res
        .status(422)
        .json({ statusCode: 422, message: ['body must be form-encoded'], error: 'Unprocessable Entity' });
    if (body.client_id !== clientId || body.client_secret !== clientSecret)
      return void res.status(401).json({ error: 'invalid_client', error_description: 'Invalid client credentials' });
    if (body.grant_type === 'authorization_code') {
      const locationId = body.code ? codes.get(body.code) : undefined;
      if (!locationId)
        return void res
          .status(400)
          .json({ error: 'invalid_grant', error_description: 'Invalid grant: authorization code is invalid' });
      codes.delete(body.code!);
      stats.codeExchanges++;
      return void res.json(grant(locationId));
    }
    if (body.grant_type === 'refresh_token') {
      if (settings.refreshDelayMs > 0) await new Promise((r) => setTimeout(r, settings.refreshDelayMs));
      const locationId = body.refresh_token ? refreshTokens.get(body.refresh_token) : undefined;
      if (!locationId || settings.failRefresh) {
        stats.failedRefreshes++;
        return void res
          .status(400)
          .json({ error: 'invalid_grant', error_description: 'Invalid grant: refresh token is invalid' });
      }
      // Rotation: the used refresh token is dead from now on.
      refreshTokens.delete(body.refresh_token!);
      stats.refreshes++;
      return void res.json(grant(locationId));
    }
    res.status(400).json({
      error: 'unsupported_grant_type',
      error_description: 'grant_type must be authorization_code or refresh_token',
    });
  });

  // Everything below is the API: authenticated, rate-limited per location, scriptable.
  app.use((req, res, next) => {
    const header = req.headers.authorization ?? '';
    const entry = header.startsWith('Bearer ') ? accessTokens.get(header.slice(7)) : undefined;
    if (!entry || entry.expiresAt <= Date.now())
      return void res
        .status(401)
        .json({ statusCode: 401, message: 'Invalid token: access token is invalid', error: 'Unauthorized' });
    if (req.headers.version !== '2021-07-28')
      return void res.status(400).json({ statusCode: 400, message: 'Version header is required' });
    const locationId = entry.locationId;
    const now = Date.now();
    let log = stats.requests.get(locationId);
    if (!log) stats.requests.set(locationId, (log = []));
    log.push(now);
    const recent = log.filter((t) => t > now - interval).length;
    const remaining = Math.max(0, max - recent);
    res.setHeader('X-RateLimit-Limit-Daily', '200000');
    res.setHeader('X-RateLimit-Daily-Remaining', String(200_000 - log.length));
    res.setHeader('X-RateLimit-Interval-Milliseconds', String(interval));
    res.setHeader('X-RateLimit-Max', String(max));
    res.setHeader('X-RateLimit-Remaining', String(remaining));
    const index = faults.findIndex((f) => !f.path || req.path.startsWith(f.path));
    if (index !== -1) {
      const fault = faults.splice(index, 1)[0]!;
      for (const [k, v] of Object.entries(fault.headers ?? {})) res.setHeader(k, v);
      if (fault.hang) return void hung.add(res);
      if (fault.trickle) {
        hung.add(res);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const timer = setInterval(() => res.write(' '), 200);
        res.on('close', () => clearInterval(timer));
        return;
      }
      return void res.status(fault.status ?? 500).json({
        statusCode: fault.status ?? 500,
        message: fault.status === 429 ? 'Too Many Requests' : 'Internal Server Error',
      });
    }
    if (recent > max) return void res.status(429).json({ statusCode: 429, message: 'Too Many Requests' });
    const asked = (req.query.locationId as string | undefined) ?? req.params.locationId;
    res.locals.locationId = locationId;
    res.locals.asked = asked;
    next();
  });

  const own = (req: Request, res: Response, asked: unknown): FakeLocation | undefined => {
    const locationId = res.locals.locationId as string;
    if (typeof asked !== 'string' || asked !== locationId) {
      res
        .status(401)
        .json({ statusCode: 401, message: 'The token does not have access to this location.', error: 'Unauthorized' });
      return undefined;
    }
    const location = options.locations[locationId];
    if (!location) res.status(404).json({ statusCode: 404, message: 'Location not found' });
    return location;
  };

  const meta = (def: Record<string, unknown>) => ({
    id: String(def.id ?? def._id),
    name: def.name,
    status: def.status,
    version: def.version,
    createdAt: def.createdAt,
    updatedAt: def.updatedAt,
    locationId: def.locationId,
  });

  app.get('/workflows/', (req, res) => {
    const loc = own(req, res, req.query.locationId);
    if (loc) res.json({ workflows: loc.workflows.map(meta) });
  });
  // SIMULATED: GHL has no public endpoint returning a definition; this stands in for one.
  app.get('/workflows/:workflowId', (req, res) => {
    const loc = own(req, res, req.query.locationId);
    if (!loc) return;
    const def = loc.workflows.find((w) => (w.id ?? w._id) === req.params.workflowId);
    if (!def) return void res.status(404).json({ statusCode: 404, message: 'Workflow not found' });
    res.json(def);
  });
  // The builder backend's path shape (backend.leadconnectorhq.com/workflow/{locationId}/{workflowId}), simulated too.
  app.get('/workflow/:locationId/:workflowId', (req, res) => {
    const loc = own(req, res, req.params.locationId);
    if (!loc) return;
    const def = loc.workflows.find((w) => (w.id ?? w._id) === req.params.workflowId);
    if (!def) return void res.status(404).json({ statusCode: 404, message: 'Workflow not found' });
    res.json(def);
  });
  const withLocation = (items: unknown[] | undefined, locationId: string) =>
    (items ?? []).map((i) => ({ ...(i as object), locationId }));
  app.get('/locations/:locationId/customFields', (req, res) => {
    const loc = own(req, res, req.params.locationId);
    if (loc) res.json({ customFields: withLocation(loc.inventory.customFields, req.params.locationId) });
  });
  app.get('/locations/:locationId/customValues', (req, res) => {
    const loc = own(req, res, req.params.locationId);
    if (loc) res.json({ customValues: withLocation(loc.inventory.customValues, req.params.locationId) });
  });
  app.get('/calendars/', (req, res) => {
    const loc = own(req, res, req.query.locationId);
    if (loc) res.json({ calendars: withLocation(loc.inventory.calendars, String(req.query.locationId)) });
  });
  app.get('/opportunities/pipelines', (req, res) => {
    const loc = own(req, res, req.query.locationId);
    if (loc) res.json({ pipelines: withLocation(loc.inventory.pipelines, String(req.query.locationId)) });
  });
  app.get('/users/', (req, res) => {
    const loc = own(req, res, req.query.locationId);
    if (loc) res.json({ users: loc.inventory.users ?? [] });
  });
  app.get('/forms/', (req, res) => {
    const loc = own(req, res, req.query.locationId);
    if (loc)
      res.json({
        forms: withLocation(loc.inventory.forms, String(req.query.locationId)),
        total: loc.inventory.forms?.length ?? 0,
      });
  });
  app.use((_req, res) => void res.status(404).json({ statusCode: 404, message: 'Not found' }));

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    settings,
    fault: (...f) => void faults.push(...f),
    issueCode: fakeIssueCode,
    grant,
    maxInWindow(locationId, windowMs) {
      const log = stats.requests.get(locationId) ?? [];
      let best = 0;
      for (let i = 0, j = 0; i < log.length; i++) {
        while (log[i]! - log[j]! >= windowMs) j++;
        best = Math.max(best, i - j + 1);
      }
      return best;
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
