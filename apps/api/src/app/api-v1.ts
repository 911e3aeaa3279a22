import { Router, type RequestHandler } from 'express';
import { requireAuth } from '../auth/middleware.js';
import type { SessionCookie, SessionStore } from '../auth/sessions.js';
import type { Database } from '../db/database.js';
import { analysisHistory, latestAnalysis } from '../features/workflows/queries.js';
import { activeSubscription } from '../features/billing/queries.js';
import { HttpError, notFound } from '../http/errors.js';
import { ROUTER_OPTIONS } from '../http/routing.js';

/** Object-level authorization: a credential scoped to location A never sees location B (404, not 403: no oracle). */
const ownLocation: RequestHandler = (req, _res, next) => {
  const locationId = req.params.locationId;
  next(req.principal?.locationId && req.principal.locationId === locationId ? undefined : notFound('Location'));
};

function limitOf(raw: unknown): number {
  if (raw === undefined) return 20;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new HttpError(400, 'VALIDATION_ERROR', 'limit must be an integer between 1 and 100', {
      details: {
        issues: [
          {
            location: 'query',
            path: ['limit'],
            message: 'Expected an integer between 1 and 100',
            code: 'invalid_value',
          },
        ],
      },
    });
  }
  return n;
}

/**
 * Version 1 of the API, mounted at both `/api` (implicit v1) and `/v1/api`. A v2 is a sibling router
 * (`createApiV2Router`) mounted at `/v2/api` in create-app.ts; v1 keeps working unchanged beside it.
 */
export function createApiV1Router(deps: { db: Database; sessions: SessionStore; cookie: SessionCookie }): Router {
  const router = Router(ROUTER_OPTIONS);

  router.get('/me', requireAuth, (req, res) => {
    const p = req.principal!;
    res.json({ success: true, data: { accountId: p.accountId, locationId: p.locationId, authenticatedBy: p.kind } });
  });

  router.post('/session/logout', requireAuth, async (req, res) => {
    if (req.principal?.sessionToken) await deps.sessions.revoke(req.principal.sessionToken);
    res.clearCookie(deps.cookie.name, { path: '/', httpOnly: true, secure: deps.cookie.secure, sameSite: 'lax' });
    res.json({ success: true });
  });

  router.get('/locations/:locationId/analyses', requireAuth, ownLocation, async (req, res) => {
    const rows = await analysisHistory(deps.db, req.params.locationId as string, limitOf(req.query.limit));
    res.json({ success: true, data: rows });
  });

  router.get('/locations/:locationId/workflows/:workflowId/analysis', requireAuth, ownLocation, async (req, res) => {
    const row = await latestAnalysis(deps.db, req.params.locationId as string, req.params.workflowId as string);
    if (!row) throw notFound('Analysis');
    res.json({ success: true, data: row });
  });

  router.get('/locations/:locationId/subscription', requireAuth, ownLocation, async (req, res) => {
    const sub = await activeSubscription(deps.db, req.params.locationId as string);
    res.json({ success: true, data: sub ?? { tier: 'free', currentPeriodEnd: null } });
  });

  return router;
}
