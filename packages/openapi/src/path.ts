import { RouteDefinitionError } from './errors.js';

// Express 5 (path-to-regexp v8) parameter names are JavaScript identifiers.
const PARAM = /:([A-Za-z_$][A-Za-z0-9_$]*)/g;
// Wildcards, optional groups and regex groups have no OpenAPI equivalent.
const UNSUPPORTED = /[*{}()?+!]/;

/** The parameter names of an Express 5 path, in order of appearance. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(PARAM)].map((m) => m[1]!);
}

/**
 * Converts an Express 5 path (`/workflows/:id`) to an OpenAPI path template (`/workflows/{id}`).
 * Throws a RouteDefinitionError for syntax OpenAPI cannot describe (wildcards, optional groups).
 */
export function toOpenApiPath(path: string, route?: string): string {
  if (!path.startsWith('/')) throw new RouteDefinitionError(`path must start with "/", got "${path}"`, { route });
  if (UNSUPPORTED.test(path)) {
    throw new RouteDefinitionError(
      `path "${path}" uses wildcards, groups or optional segments, which OpenAPI cannot describe`,
      { route },
    );
  }
  if (path.length > 1 && path.endsWith('/'))
    throw new RouteDefinitionError(`path "${path}" must not end with "/"`, { route });
  const names = pathParamNames(path);
  if (new Set(names).size !== names.length)
    throw new RouteDefinitionError(`path "${path}" repeats a parameter name`, { route });
  const converted = path.replace(PARAM, '{$1}');
  if (converted.includes(':'))
    throw new RouteDefinitionError(`path "${path}" has a ":" that is not a parameter`, { route });
  return converted;
}

/** Converts an OpenAPI path template back to Express syntax (`{id}` to `:id`). */
export function toExpressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}

/** Joins a mount prefix and a route path the way Express does (`/api` + `/` is `/api`). */
export function joinPath(prefix: string, path: string): string {
  const left = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (path === '/' || path === '') return left === '' ? '/' : left;
  return `${left}${path.startsWith('/') ? path : `/${path}`}`;
}
