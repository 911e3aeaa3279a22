/**
 * Recovers the full route template (`/v1/users/:id/items/:itemId`) of an Express 5 request.
 *
 * `req.baseUrl` holds the *matched values* of every mount path (`/v1/users/7`), so concatenating it
 * with `req.route.path` leaks ids into labels for routers mounted on parameter paths. The mount
 * *patterns* only exist on the router's layers, so each mount layer's `handleRequest` gets an own
 * wrapper that pushes its pattern on entry and pops it when the router hands the request back.
 * `layer.handle` stays untouched, so route-table walkers (OpenAPI contract tests) see the same tree.
 * Express 4 layers have `handle_request` instead, and keep no raw path (the pattern is rebuilt).
 */

// Symbol.for: two copies of this package on one app share the marks instead of patching twice.
const PATCHED = Symbol.for('@org/metrics.mount-patched');
const MOUNTS = Symbol.for('@org/metrics.mounts');
const RESOLVED = Symbol.for('@org/metrics.resolved-route');

interface Layer {
  route?: unknown;
  handle?: { stack?: Layer[] } & ((...args: unknown[]) => unknown);
  rawPath?: unknown;
  slash?: boolean;
  handleRequest?: (req: unknown, res: unknown, next: (err?: unknown) => void) => unknown;
  handle_request?: (req: unknown, res: unknown, next: (err?: unknown) => void) => unknown;
  [PATCHED]?: true;
}

interface RouteLike {
  path?: unknown;
}

interface Mount {
  pattern: string;
  route: unknown;
}

export interface TrackedRequest {
  route?: RouteLike;
  baseUrl?: string;
  params?: Record<string, string>;
  app?: { router?: { stack?: Layer[] } };
  [MOUNTS]?: Mount[];
  [RESOLVED]?: { route: unknown; template: string };
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p === '/' ? '' : p;
}

function patternFallback(req: TrackedRequest, mounts: Mount[]): string {
  // Older router releases keep no raw path: rebuild it from the matched prefix, putting names back
  // in place of the values the mount's parameters matched.
  const consumed = mounts.reduce((n, m) => n + m.pattern.length, 0);
  const added = (req.baseUrl ?? '').slice(consumed);
  const params = req.params ?? {};
  const byValue = new Map<string, string>();
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' && v) byValue.set(v, k);
  return added
    .split('/')
    .map((seg) => {
      let decoded = seg;
      try {
        decoded = decodeURIComponent(seg);
      } catch {
        // keep the raw segment
      }
      const name = byValue.get(decoded);
      return name === undefined ? seg : `:${name}`;
    })
    .join('/');
}

function patternOf(layer: Layer, req: TrackedRequest, mounts: Mount[]): string {
  const raw = layer.rawPath;
  if (typeof raw === 'string') return trimSlash(raw);
  if (raw instanceof RegExp) return `(${raw.source})`;
  return trimSlash(patternFallback(req, mounts));
}

/** The concatenated patterns of the first `depth` mounts (a loop: no intermediate array per request). */
function mountPrefix(mounts: Mount[], depth: number): string {
  let prefix = '';
  for (let i = 0; i < depth; i++) prefix += mounts[i]!.pattern;
  return prefix;
}

function patchLayer(layer: Layer): void {
  if (layer[PATCHED]) return;
  // Express 5's router calls handleRequest, Express 4's handle_request.
  const method =
    typeof layer.handleRequest === 'function'
      ? 'handleRequest'
      : typeof layer.handle_request === 'function'
        ? 'handle_request'
        : undefined;
  if (method === undefined) return;
  const original = layer[method]!;
  layer[method] = function patchedHandleRequest(
    this: Layer,
    req: unknown,
    res: unknown,
    next: (err?: unknown) => void,
  ) {
    const r = req as TrackedRequest;
    const mounts = (r[MOUNTS] ??= []);
    mounts.push({ pattern: patternOf(this, r, mounts), route: r.route });
    const depth = mounts.length;
    return original.call(this, req, res, (err?: unknown) => {
      // Leaving the router: remember the template of a route matched inside it, because an error
      // handler further out may answer after the mount patterns are gone.
      if (r.route && r.route !== mounts[depth - 1]?.route && r[RESOLVED]?.route !== r.route) {
        r[RESOLVED] = { route: r.route, template: mountPrefix(mounts, depth) + routePath(r.route) };
      }
      mounts.length = depth - 1;
      next(err);
    });
  };
  Object.defineProperty(layer, PATCHED, { value: true });
}

/** Tracks every router reachable from an app's root router and patches mount layers added later. */
export class RouterWatcher {
  private readonly seen = new Map<Layer[], number>();

  /** Cheap on the hot path: compares stack lengths, walks again only when a router grew. */
  refresh(root: Layer[] | undefined): void {
    if (!root) return;
    let stale = this.seen.get(root) !== root.length;
    if (!stale) {
      for (const [stack, length] of this.seen) {
        if (stack.length !== length) {
          stale = true;
          break;
        }
      }
    }
    if (stale) this.walk(root, 0);
  }

  private walk(stack: Layer[], depth: number): void {
    this.seen.set(stack, stack.length);
    if (depth > 32) return;
    for (const layer of stack) {
      if (layer.route) continue;
      const inner = layer.handle?.stack;
      if (Array.isArray(inner)) {
        patchLayer(layer);
        this.walk(inner, depth + 1);
      }
    }
  }
}

/** The root router's stack of an Express 5 app (`app.router`) or an Express 4 app (`app._router`, whose `app.router` throws). */
export function routerStack(app: object): Layer[] | undefined {
  const a = app as { lazyrouter?: unknown; _router?: { stack?: Layer[] }; router?: { stack?: Layer[] } };
  return typeof a.lazyrouter === 'function' ? a._router?.stack : a.router?.stack;
}

export function routePath(route: unknown): string {
  const path = (route as RouteLike).path;
  if (typeof path === 'string') return path;
  if (Array.isArray(path)) return path.map(String).join('|');
  if (path instanceof RegExp) return `(${path.source})`;
  return '';
}

/** The template of the route that handled `req`, or undefined when no route matched. */
export function routeTemplate(req: TrackedRequest): string | undefined {
  const route = req.route;
  if (!route) return undefined;
  const resolved = req[RESOLVED];
  if (resolved && resolved.route === route) return resolved.template || '/';
  const mounts = req[MOUNTS];
  const prefix = mounts ? mountPrefix(mounts, mounts.length) : '';
  const template = prefix + routePath(route);
  return template || '/';
}
