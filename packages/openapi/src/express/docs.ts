import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import express, { type Response, type Router } from 'express';
import { CONTRACT_IGNORE } from '../contract.js';
import { ASSETS, checkPath, CSP, docsPage, escapeHtml, INIT_JS, type DocsOptions } from '../http/docs.js';
import type { OpenApi } from '../types.js';

export type { DocsOptions } from '../http/docs.js';

function secure(res: Response): Response {
  return res.set({
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
}

/** Serves the cached document and an offline Swagger UI (assets from swagger-ui-dist, CSP `script-src 'self'`). */
export function createDocsRouter(openapi: OpenApi, options: DocsOptions): Router {
  const router = express.Router();
  (router as Router & { [CONTRACT_IGNORE]?: boolean })[CONTRACT_IGNORE] = true;
  if (options.enabled === false) return router;
  const jsonPath = checkPath('jsonPath', options.jsonPath ?? '/openapi.json');
  const uiPath = checkPath('uiPath', options.uiPath ?? '/api-docs');
  const title = escapeHtml(options.title ?? String(openapi.document.info.title));
  const assetsDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  // Serialised and encoded once, and only when the docs are on (not per request).
  const json = Buffer.from(openapi.json);

  router.get(jsonPath, (_req, res) => {
    res.set({ 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }).type('application/json').send(json);
  });
  router.get(uiPath, (req, res) => {
    secure(res)
      .set('Cache-Control', 'no-cache')
      .type('html')
      .send(docsPage(title, `${req.baseUrl}${uiPath}`, `${req.baseUrl}${jsonPath}`));
  });
  router.get(`${uiPath}/init.js`, (_req, res) => {
    secure(res).set('Cache-Control', 'no-cache').type('application/javascript').send(INIT_JS);
  });
  router.get(`${uiPath}/:asset`, (req, res, next) => {
    const asset = req.params.asset;
    if (!ASSETS.has(asset)) return next();
    secure(res).sendFile(asset, { root: assetsDir, maxAge: '1d' });
  });
  return router;
}
