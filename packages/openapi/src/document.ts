import {
  OpenApiBuilder,
  type InfoObject,
  type MediaTypeObject,
  type OpenAPIObject,
  type OperationObject,
  type ParameterObject,
  type PathItemObject,
  type ResponseObject,
  type SchemaObject,
  type SecuritySchemeObject,
  type HeaderObject,
} from 'openapi3-ts/oas31';
import type { z } from 'zod';
import {
  ERROR_RESPONSES,
  ERROR_SCHEMA,
  HEADERS,
  errorResponse,
  errorSchemas,
  isNarrowed,
  resolveErrorCatalog,
  successRateLimitHeaders,
} from './components.js';
import { OpenApiOptionsError, RouteDefinitionError } from './errors.js';
import { SchemaConverter, metaOf } from './schema.js';
import type {
  ErrorStatus,
  ObjectSchema,
  OpenApi,
  OpenApiOptions,
  ResolvedErrorCatalog,
  RouteDefinition,
  SecurityRequirement,
} from './types.js';

const ERROR_STATUSES = new Set(Object.keys(ERROR_RESPONSES).map(Number));

/** A cookie session scheme (`in: cookie`), as the reference API uses. */
export function cookieAuth(
  cookieName: string,
  description = `Session cookie \`${cookieName}\` set by the login endpoint.`,
): SecuritySchemeObject {
  return { type: 'apiKey', in: 'cookie', name: cookieName, description };
}

/** A bearer-token scheme for API keys (`Authorization: Bearer <key>`). */
export function bearerAuth(
  description = 'API key sent as `Authorization: Bearer <key>`.',
  bearerFormat = 'API key',
): SecuritySchemeObject {
  return { type: 'http', scheme: 'bearer', bearerFormat, description };
}

// license.identifier and info.summary only exist in 3.1; a 3.0.3 document must not carry them.
function infoFor30(info: InfoObject): InfoObject {
  const { summary: _summary, license, ...rest } = info as InfoObject & { summary?: string };
  if (!license) return rest;
  const { identifier, ...licenseRest } = license;
  if (!licenseRest.url && identifier) licenseRest.url = `https://spdx.org/licenses/${identifier}.html`;
  return { ...rest, license: licenseRest };
}

function normalizeOptions(
  options: OpenApiOptions,
): Required<Omit<OpenApiOptions, 'externalDocs' | 'errors'>> &
  Pick<OpenApiOptions, 'externalDocs'> & { errors: ResolvedErrorCatalog } {
  if (typeof options !== 'object' || options === null) throw new OpenApiOptionsError('options must be an object');
  const { info } = options;
  if (
    !info ||
    typeof info.title !== 'string' ||
    info.title === '' ||
    typeof info.version !== 'string' ||
    info.version === ''
  ) {
    throw new OpenApiOptionsError('info.title and info.version are required strings');
  }
  const openapi = options.openapi ?? '3.1.0';
  if (openapi !== '3.1.0' && openapi !== '3.0.3')
    throw new OpenApiOptionsError(`openapi must be "3.1.0" or "3.0.3", got "${String(openapi)}"`);
  if (!Array.isArray(options.routes)) throw new OpenApiOptionsError('routes must be an array of defineRoute() results');
  for (const route of options.routes) {
    if (typeof (route as RouteDefinition | undefined)?.openApiPath !== 'string')
      throw new OpenApiOptionsError('every route must come from defineRoute()');
  }
  const servers = options.servers ?? [{ url: '/' }];
  if (!Array.isArray(servers) || servers.some((s) => typeof s?.url !== 'string'))
    throw new OpenApiOptionsError('servers must be a list of { url }');
  const defaultErrors = options.defaultErrors ?? [429, 500, 503];
  for (const status of defaultErrors)
    if (!ERROR_STATUSES.has(status))
      throw new OpenApiOptionsError(`defaultErrors: ${status} is not one of ${[...ERROR_STATUSES].join(', ')}`);
  return {
    info: openapi === '3.0.3' ? infoFor30(info) : info,
    routes: options.routes,
    openapi,
    servers,
    securitySchemes: options.securitySchemes ?? {},
    security: options.security ?? [],
    tags: options.tags ?? [],
    externalDocs: options.externalDocs,
    defaultErrors,
    errors: resolveErrorCatalog(options.errors, (message) => new OpenApiOptionsError(message)),
  };
}

function mediaType(converter: SchemaConverter, schema: z.ZodType, io: 'input' | 'output'): MediaTypeObject {
  const media: MediaTypeObject = { schema: converter.convert(schema, io) };
  const meta = metaOf(schema);
  if (meta?.example !== undefined) media.example = meta.example;
  else if (Array.isArray(meta?.examples) && meta.examples.length > 0) media.example = meta.examples[0];
  return media;
}

function parameters(
  converter: SchemaConverter,
  schema: ObjectSchema | undefined,
  location: 'path' | 'query' | 'header',
): ParameterObject[] {
  if (!schema) return [];
  const object = converter.resolve(converter.convert(schema, 'input'));
  const required = new Set(object.required ?? []);
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const parameter: ParameterObject = {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      schema: property,
    };
    const prop = property as SchemaObject;
    if (typeof prop.description === 'string') parameter.description = prop.description;
    if (prop.example !== undefined) parameter.example = prop.example;
    return parameter;
  });
}

function errorStatusesOf(
  route: RouteDefinition,
  security: readonly SecurityRequirement[],
  defaults: readonly ErrorStatus[],
): Set<ErrorStatus> {
  const request = route.request ?? {};
  const statuses = new Set<ErrorStatus>(defaults);
  if (request.params || request.query || request.headers || request.body) statuses.add(400);
  if (security.length > 0 && security.some((requirement) => Object.keys(requirement).length > 0)) {
    statuses.add(401);
    statuses.add(403);
  }
  if (route.pathParams.length > 0) statuses.add(404);
  if (request.body) {
    statuses.add(413);
    statuses.add(415);
  }
  for (const status of route.errors ?? []) statuses.add(status);
  return statuses;
}

/** Builds the OpenAPI document for `options.routes` (pure; `createOpenApi` caches the result). */
export function buildDocument(input: OpenApiOptions): OpenAPIObject {
  const options = normalizeOptions(input);
  const converter = new SchemaConverter(options.openapi);
  const builder = OpenApiBuilder.create({ openapi: options.openapi, info: options.info, paths: {} });
  for (const server of options.servers) builder.addServer(server);
  if (options.externalDocs) builder.addExternalDocs(options.externalDocs);
  for (const [name, scheme] of Object.entries(options.securitySchemes)) builder.addSecurityScheme(name, scheme);
  if (options.security.length > 0) builder.rootDoc.security = options.security.map((s) => ({ ...s }));

  const usedErrors = new Set<ErrorStatus>();
  const usedHeaders = new Set<string>();
  const usedTags: string[] = [];
  const operationIds = new Set<string>();
  const pathItems = new Map<string, PathItemObject>();

  for (const route of options.routes) {
    if (operationIds.has(route.operationId))
      throw new RouteDefinitionError(`operationId "${route.operationId}" is used twice`, { route: route.label });
    operationIds.add(route.operationId);
    const security = route.security ?? options.security;
    for (const requirement of security) {
      for (const name of Object.keys(requirement)) {
        if (!(name in options.securitySchemes))
          throw new RouteDefinitionError(`security scheme "${name}" is not in securitySchemes`, { route: route.label });
      }
    }
    const request = route.request ?? {};
    const operation: OperationObject = { operationId: route.operationId, summary: route.summary, responses: {} };
    if (route.description) operation.description = route.description;
    if (route.tags && route.tags.length > 0) {
      operation.tags = [...route.tags];
      for (const tag of route.tags) if (!usedTags.includes(tag)) usedTags.push(tag);
    }
    if (route.deprecated) operation.deprecated = true;
    const params = [
      ...parameters(converter, request.params, 'path'),
      ...parameters(converter, request.query, 'query'),
      ...parameters(converter, request.headers, 'header'),
    ];
    // Params without a schema are still documented, as plain strings, in path order.
    if (!request.params)
      params.unshift(
        ...route.pathParams.map((name) => ({
          name,
          in: 'path' as const,
          required: true,
          schema: { type: 'string' as const },
        })),
      );
    if (params.length > 0) operation.parameters = params;
    if (request.body) {
      operation.requestBody = {
        description:
          request.bodyDescription ?? (metaOf(request.body)?.description as string | undefined) ?? 'JSON request body',
        required: !request.body.safeParse(undefined).success,
        content: { 'application/json': mediaType(converter, request.body, 'input') },
      };
    }
    const responses: Record<string, ResponseObject | { $ref: string }> = {};
    const rateLimited = route.extensions !== undefined && 'x-rate-limit' in route.extensions;
    for (const [status, spec] of Object.entries(route.responses)) {
      const response: ResponseObject = { description: spec.description };
      if (spec.body)
        response.content = { [spec.contentType ?? 'application/json']: mediaType(converter, spec.body, 'output') };
      if (spec.headers) {
        response.headers = Object.fromEntries(
          Object.entries(spec.headers).map(([name, schema]) => {
            const converted = converter.convert(schema, 'output');
            const description = (converter.resolve(converted).description as string | undefined) ?? name;
            return [name, { description, schema: converted }];
          }),
        );
      }
      // A rate-limited route sends its quota headers on successes too, not only on the 429.
      if (rateLimited && Number(status) < 400) {
        response.headers ??= {};
        for (const header of successRateLimitHeaders(options.errors)) {
          if (response.headers[header]) continue;
          response.headers[header] = { $ref: `#/components/headers/${header}` };
          usedHeaders.add(header);
        }
      }
      responses[status] = response;
    }
    for (const status of errorStatusesOf(route, security, options.defaultErrors)) {
      if (responses[status]) continue;
      usedErrors.add(status);
      responses[status] = { $ref: `#/components/responses/${ERROR_RESPONSES[status].name}` };
    }
    operation.responses = responses;
    if (route.security) operation.security = route.security.map((s) => ({ ...s }));
    for (const [key, value] of Object.entries(route.extensions ?? {}))
      (operation as Record<string, unknown>)[key] = value;

    const item = pathItems.get(route.openApiPath) ?? {};
    if (item[route.method])
      throw new RouteDefinitionError('the same method and path are defined twice', { route: route.label });
    item[route.method] = operation;
    pathItems.set(route.openApiPath, item);
  }

  for (const [path, item] of pathItems) builder.addPath(path, item);
  const described = new Set(options.tags.map((t) => t.name));
  for (const tag of options.tags) builder.addTag({ ...tag });
  for (const tag of usedTags) if (!described.has(tag)) builder.addTag({ name: tag });

  // Only components that some operation uses: linters flag unused ones.
  const sortedErrors = [...usedErrors].sort((a, b) => a - b);
  if (sortedErrors.length > 0) {
    // ApiError only when some status refers to it (the narrowed ones are written out in full).
    const shared = sortedErrors.some((status) => !isNarrowed(options.errors[status]));
    for (const [name, schema] of Object.entries(errorSchemas()))
      if (shared || name !== ERROR_SCHEMA) converter.components[name] = schema;
    for (const status of sortedErrors) {
      builder.addResponse(ERROR_RESPONSES[status].name, errorResponse(status, options.errors));
      for (const header of Object.keys(options.errors[status].headers ?? {})) usedHeaders.add(header);
    }
  }
  // A header is described once: by the status that lists it in the catalog (the 429's quota headers), else by the defaults.
  const headerObjects: Record<string, HeaderObject> = { ...HEADERS };
  for (const spec of Object.values(options.errors))
    Object.assign(headerObjects, spec.headers as Record<string, HeaderObject> | undefined);
  for (const header of [...Object.keys(HEADERS), ...Object.keys(headerObjects)]) {
    if (usedHeaders.delete(header) && headerObjects[header]) builder.addHeader(header, headerObjects[header]);
  }
  for (const name of Object.keys(converter.components).sort()) builder.addSchema(name, converter.components[name]!);
  return builder.getSpec();
}

/** Builds the document once from the route definitions and keeps it (and its JSON) for serving. */
export function createOpenApi(options: OpenApiOptions): OpenApi {
  // Built now: building is what rejects inconsistent routes (duplicate operationIds, unknown schemes).
  const document = buildDocument(options);
  // Serialised on first read: a router whose docs are off never pays for it.
  let json: string | undefined;
  return {
    document,
    get json() {
      return (json ??= JSON.stringify(document));
    },
    routes: [...options.routes],
    errors: resolveErrorCatalog(options.errors, (message) => new OpenApiOptionsError(message)),
  };
}
