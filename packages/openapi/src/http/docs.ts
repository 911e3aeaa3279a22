import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OpenApiOptionsError } from '../errors.js';
import type { OpenApi } from '../types.js';

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

// Swagger UI needs inline styles and data: images, but no inline or
// remote script: everything is served from this origin.
export const CSP = [
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

export const ASSETS = new Set([
  'swagger-ui.css',
  'index.css',
  'swagger-ui-bundle.js',
  'favicon-32x32.png',
  'favicon-16x16.png',
]);

// Read by the page from data-url, so the script is static and needs no inline configuration.
export const INIT_JS = `window.addEventListener('load', function () {
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

export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function checkPath(name: string, value: string): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(value) || value.endsWith('/')) {
    throw new OpenApiOptionsError(
      `docs.${name} must be an absolute path without a trailing slash, got "${String(value)}"`,
    );
  }
  return value;
}

/** The Swagger UI page: static scripts from `base` (the UI path as mounted), the document from `url`. */
export function docsPage(title: string, base: string, url: string): string {
  const b = escapeHtml(base);
  const u = escapeHtml(url);
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n` +
    `<link rel="stylesheet" href="${b}/swagger-ui.css">\n<link rel="stylesheet" href="${b}/index.css">\n` +
    `<link rel="icon" type="image/png" href="${b}/favicon-32x32.png" sizes="32x32">\n</head>\n<body>\n` +
    `<div id="swagger-ui" data-url="${u}"></div>\n<script src="${b}/swagger-ui-bundle.js"></script>\n` +
    `<script src="${b}/init.js"></script>\n</body>\n</html>\n`
  );
}

/** One answer of the docs routes, whatever the framework. */
export interface DocsAnswer {
  status: 200;
  headers: Record<string, string>;
  body: string | Buffer;
}

const SECURE = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
const ASSET_TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'application/javascript; charset=utf-8',
  png: 'image/png',
};

/**
 * The docs routes as data, for the Fastify and Hono bindings: `answer(path, prefix)` gives the document,
 * the page, `init.js` or one of the listed Swagger UI assets (read once, on first use), else undefined.
 */
export function docsContent(
  openapi: OpenApi,
  options: DocsOptions,
): { jsonPath: string; uiPath: string; answer(path: string, prefix: string): DocsAnswer | undefined } | undefined {
  if (options.enabled === false) return undefined;
  const jsonPath = checkPath('jsonPath', options.jsonPath ?? '/openapi.json');
  const uiPath = checkPath('uiPath', options.uiPath ?? '/api-docs');
  const title = escapeHtml(options.title ?? String(openapi.document.info.title));
  const assetsDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const json = Buffer.from(openapi.json);
  const assets = new Map<string, Buffer>();
  return {
    jsonPath,
    uiPath,
    answer(path, prefix) {
      if (path === jsonPath)
        return {
          status: 200,
          headers: {
            'Cache-Control': 'no-cache',
            'X-Content-Type-Options': 'nosniff',
            'Content-Type': 'application/json; charset=utf-8',
          },
          body: json,
        };
      if (path === uiPath)
        return {
          status: 200,
          headers: { ...SECURE, 'Cache-Control': 'no-cache', 'Content-Type': 'text/html; charset=utf-8' },
          body: docsPage(title, `${prefix}${uiPath}`, `${prefix}${jsonPath}`),
        };
      if (path === `${uiPath}/init.js`)
        return {
          status: 200,
          headers: { ...SECURE, 'Cache-Control': 'no-cache', 'Content-Type': 'application/javascript; charset=utf-8' },
          body: INIT_JS,
        };
      const asset = path.startsWith(`${uiPath}/`) ? path.slice(uiPath.length + 1) : '';
      if (!ASSETS.has(asset)) return undefined;
      let body = assets.get(asset);
      if (!body) assets.set(asset, (body = readFileSync(join(assetsDir, asset))));
      return {
        status: 200,
        headers: {
          ...SECURE,
          'Cache-Control': 'public, max-age=86400',
          'Content-Type': ASSET_TYPES[asset.slice(asset.lastIndexOf('.') + 1)]!,
        },
        body,
      };
    },
  };
}
