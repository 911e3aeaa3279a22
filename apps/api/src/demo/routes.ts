import { Router } from 'express';
import { setSessionCookie, type SessionCookie, type SessionStore } from '../auth/sessions.js';
import { notFound } from '../http/errors.js';
import type { DemoLocation } from './demo-mode.js';
import { ROUTER_OPTIONS } from '../http/routing.js';

/**
 * `POST /auth/demo/login`: a session for the demo location, so a newcomer can call every route at once. Exists only in
 * demo mode (development without GHL credentials); anywhere else, including production, it answers 404.
 */
export function createDemoRouter(options: {
  demo: () => DemoLocation | undefined;
  isProduction: boolean;
  sessions: SessionStore;
  cookie: SessionCookie;
}): Router {
  const router = Router(ROUTER_OPTIONS);
  router.post('/auth/demo/login', async (req, res) => {
    const demo = options.demo();
    if (!demo || options.isProduction) throw notFound();
    // A new login ends the session the browser presented.
    if (req.principal?.sessionToken) await options.sessions.revoke(req.principal.sessionToken);
    const session = await options.sessions.create(demo.accountId, demo.locationId, options.cookie.maxAgeMs);
    setSessionCookie(res, options.cookie, session);
    res.json({ success: true, data: { locationId: demo.locationId, name: demo.name } });
  });
  return router;
}
