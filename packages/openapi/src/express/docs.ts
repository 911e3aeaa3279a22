import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import express, { type Response, type Router } from 'express';
import { CONTRACT_IGNORE } from '../contract.js';
import type { OpenApi } from '../document.js';
import { OpenApiOptionsError } from '../errors.js';

/** Options of the docs routes. */
export interface DocsOptions {
  /** Serve `/openapi.json` and `/api-docs`; the reference API passes `ENABLE_API_DOCS`. @default true */
  enabled?: boolean;
  /** Path of the JSON document. @default '/openapi.json' */
  jsonPath?: string;
  /** Path of the Swagger UI page (its assets are served below it). @default '/api-docs' */
  uiPath?: string;
  /** Title of the docs page. @default the document's info.title */
  title?: string;
}

// Swagger UI needs inline styles and data: images (swagger-ui#3370, #7540), but no inline or
// remote script: everything is served from this origin.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS = new Set(['swagger-ui.css', 'index.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);

// Read by the page from data-url, so the script is static and needs no inline configuration.
const INIT_JS = `window.addEventListener('load', function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-url'),
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
`;

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function checkPath(name: string, value: string): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(value) || value.endsWith('/')) {
    throw new OpenApiOptionsError(`docs.${name} must be an absolute path without a trailing slash, got "${String(value)}"`);
  }
  return value;
}

function secure(res: Response): Response {
  return res.set({ 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
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
    const base = escapeHtml(`${req.baseUrl}${uiPath}`);
    const url = escapeHtml(`${req.baseUrl}${jsonPath}`);
    secure(res)
      .set('Cache-Control', 'no-cache')
      .type('html')
      .send(
        `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n` +
          `<link rel="stylesheet" href="${base}/swagger-ui.css">\n<link rel="stylesheet" href="${base}/index.css">\n` +
          `<link rel="icon" type="image/png" href="${base}/favicon-32x32.png" sizes="32x32">\n</head>\n<body>\n` +
          `<div id="swagger-ui" data-url="${url}"></div>\n<script src="${base}/swagger-ui-bundle.js"></script>\n` +
          `<script src="${base}/init.js"></script>\n</body>\n</html>\n`,
      );
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
