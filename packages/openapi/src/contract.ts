import type { OpenAPIObject } from 'openapi3-ts/oas31';
import { ContractError } from './errors.js';
import { joinPath, toExpressPath } from './path.js';
import { HTTP_METHODS } from './route.js';
import type { ContractOptions, ContractReport, RouteEntry } from './types.js';

/** Routers carrying this symbol (the docs router) are not API routes and are left out of the contract. */
export const CONTRACT_IGNORE = Symbol.for('@org/openapi.contract-ignore');

interface LayerLike {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: unknown; [CONTRACT_IGNORE]?: boolean };
  rawPath?: unknown;
}

function stackOf(app: unknown): LayerLike[] {
  const candidate = app as { router?: { stack?: unknown }; _router?: { stack?: unknown }; stack?: unknown };
  // Express 5 exposes app.router; Express 4 had app._router; a Router is its own stack holder.
  const stack = candidate.router?.stack ?? candidate._router?.stack ?? candidate.stack;
  if (!Array.isArray(stack)) throw new TypeError('listExpressRoutes expects an Express app or Router');
  return stack as LayerLike[];
}

function paths(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

function walk(stack: LayerLike[], prefix: string, out: RouteEntry[], unlisted: string[]): void {
  for (const layer of stack) {
    if (layer.route) {
      const routePaths = paths(layer.route.path);
      if (!routePaths) {
        unlisted.push(`${prefix || '/'} (route ${String(layer.route.path)})`);
        continue;
      }
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all' && layer.route!.methods[m]);
      for (const path of routePaths)
        for (const method of methods) out.push({ method: method.toUpperCase(), path: joinPath(prefix, path) });
    } else if (layer.handle && Array.isArray(layer.handle.stack)) {
      if (layer.handle[CONTRACT_IGNORE]) continue;
      const mounts = paths(layer.rawPath);
      if (!mounts) {
        unlisted.push(`${prefix || '/'} (mount ${String(layer.rawPath)})`);
        continue;
      }
      for (const mount of mounts) walk(layer.handle.stack as LayerLike[], joinPath(prefix, mount), out, unlisted);
    }
  }
}

/** Lists the routes of an Express 5 app (or Router), with the full paths of nested routers. */
export function listExpressRoutes(app: unknown): RouteEntry[] {
  const out: RouteEntry[] = [];
  walk(stackOf(app), '', out, []);
  return out;
}

function mountsOf(document: OpenAPIObject): string[] {
  const servers = document.servers?.length ? document.servers : [{ url: '/' }];
  return servers.map((server) => {
    const path = new URL(server.url, 'http://placeholder.invalid').pathname;
    // Not redundant with joinPath, which drops one slash only: a `/api//` server is listed at `/api`, where Express serves it.
    return path.endsWith('/') ? path.slice(0, -1) : path;
  });
}

/** Lists the document's operations as Express paths under each mount (servers by default). */
export function listDocumentOperations(document: OpenAPIObject, options: ContractOptions = {}): RouteEntry[] {
  const mounts = options.mounts ?? mountsOf(document);
  const out: RouteEntry[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      if (!item?.[method]) continue;
      for (const mount of mounts)
        out.push({ method: method.toUpperCase(), path: joinPath(mount, toExpressPath(path)) });
    }
  }
  return out;
}

const key = (entry: RouteEntry) => `${entry.method} ${entry.path}`;

/** Compares the Express routes with the document's operations; see `assertRouterMatchesDocument`. */
export function compareRouterWithDocument(
  app: unknown,
  document: OpenAPIObject,
  options: ContractOptions = {},
): ContractReport {
  const ignore = options.ignore ?? [];
  const ignored = (path: string) => ignore.some((rule) => (typeof rule === 'string' ? rule === path : rule.test(path)));
  const routes: RouteEntry[] = [];
  const unlisted: string[] = [];
  walk(stackOf(app), '', routes, unlisted);
  const apiRoutes = routes.filter((r) => !ignored(r.path));
  const operations = listDocumentOperations(document, options);
  const routeKeys = new Set(apiRoutes.map(key));
  const operationKeys = new Set(operations.map(key));
  return {
    routes: apiRoutes,
    operations,
    undocumented: apiRoutes.filter((r) => !operationKeys.has(key(r))),
    unmounted: operations.filter((o) => !routeKeys.has(key(o))),
    unlisted,
  };
}

/**
 * Fails (ContractError) when a mounted Express route is not documented, a documented operation
 * is not mounted under every server prefix, or a RegExp mount hides routes it cannot list.
 * Use it in a test of the real app.
 */
export function assertRouterMatchesDocument(
  app: unknown,
  document: OpenAPIObject,
  options: ContractOptions = {},
): ContractReport {
  const report = compareRouterWithDocument(app, document, options);
  const unlisted = options.allowUnlisted ? [] : report.unlisted;
  if (report.undocumented.length > 0 || report.unmounted.length > 0 || unlisted.length > 0) {
    throw new ContractError(report.undocumented.map(key), report.unmounted.map(key), unlisted);
  }
  return report;
}
