import type { z } from 'zod';
import { RouteDefinitionError } from './errors.js';
import { pathParamNames, toOpenApiPath } from './path.js';
import type { HttpMethod, ObjectSchema, RouteDefinition, RouteSpec } from './types.js';

/** The methods a route may have, lower case (internal: the public surface is `HttpMethod`). */
export const HTTP_METHODS = [
  'get',
  'post',
  'put',
  'patch',
  'delete',
  'head',
  'options',
] as const satisfies readonly HttpMethod[];
// Every HttpMethod is in the list (the type check fails otherwise).
const _everyMethod: Exclude<HttpMethod, (typeof HTTP_METHODS)[number]> extends never ? true : never = true;
const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);

const OPERATION_ID = /^[A-Za-z][A-Za-z0-9_]*$/;

function isZod(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

function isObjectSchema(value: unknown): value is ObjectSchema {
  return isZod(value) && (value as { _zod: { def: { type: string } } })._zod.def.type === 'object';
}

/**
 * Declares one route. The definition is checked here (path syntax, params matching the path,
 * schemas, responses) so that mistakes fail at startup, not when the document is first served.
 */
export function defineRoute<const T extends RouteSpec>(spec: T): RouteDefinition<T> {
  const method = String(spec?.method ?? '').toLowerCase();
  const label = `${method.toUpperCase()} ${String(spec?.path)}`;
  if (!METHODS.has(method) || method !== spec.method)
    throw new RouteDefinitionError(`method must be one of ${[...METHODS].join(', ')} (lower case)`, { route: label });
  const openApiPath = toOpenApiPath(String(spec.path), label);
  const pathParams = pathParamNames(spec.path);
  if (typeof spec.operationId !== 'string' || !OPERATION_ID.test(spec.operationId)) {
    throw new RouteDefinitionError('operationId must be an identifier (letters, digits, underscore)', { route: label });
  }
  if (typeof spec.summary !== 'string' || spec.summary.trim() === '')
    throw new RouteDefinitionError('summary is required', { route: label });

  const request = spec.request ?? {};
  for (const part of ['params', 'query', 'headers'] as const) {
    const schema = request[part];
    if (schema !== undefined && !isObjectSchema(schema))
      throw new RouteDefinitionError(`request.${part} must be a z.object() schema`, { route: label });
  }
  if (request.body !== undefined && !isZod(request.body))
    throw new RouteDefinitionError('request.body must be a Zod schema', { route: label });
  if (request.body !== undefined && (method === 'get' || method === 'head'))
    throw new RouteDefinitionError(`${method.toUpperCase()} routes cannot have a request body`, { route: label });
  if (request.params) {
    const declared = Object.keys(request.params.shape).sort();
    const inPath = [...pathParams].sort();
    if (declared.join(',') !== inPath.join(',')) {
      throw new RouteDefinitionError(
        `request.params declares [${declared.join(', ')}] but the path has [${inPath.join(', ')}]`,
        { route: label },
      );
    }
  }

  const statuses = Object.keys(spec.responses ?? {});
  if (statuses.length === 0) throw new RouteDefinitionError('at least one response is required', { route: label });
  for (const key of statuses) {
    const status = Number(key);
    if (!Number.isInteger(status) || status < 100 || status > 599)
      throw new RouteDefinitionError(`response status "${key}" is not an HTTP status`, { route: label });
    const response = spec.responses[status]!;
    if (typeof response?.description !== 'string' || response.description === '')
      throw new RouteDefinitionError(`response ${key} needs a description`, { route: label });
    if (response.body !== undefined && !isZod(response.body))
      throw new RouteDefinitionError(`response ${key} body must be a Zod schema`, { route: label });
  }
  if (!statuses.some((s) => Number(s) >= 200 && Number(s) < 400))
    throw new RouteDefinitionError('at least one 2xx or 3xx response is required', { route: label });
  for (const key of Object.keys(spec.extensions ?? {})) {
    if (!key.startsWith('x-'))
      throw new RouteDefinitionError(`extension "${key}" must start with "x-"`, { route: label });
  }
  return Object.freeze({ ...spec, openApiPath, pathParams: Object.freeze(pathParams), label }) as RouteDefinition<T>;
}
