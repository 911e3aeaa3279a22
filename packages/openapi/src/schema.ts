import { z } from 'zod';
import type { ReferenceObject, SchemaObject } from 'openapi3-ts/oas31';
import { OpenApiError } from './errors.js';
import type { OpenApiVersion } from './types.js';

type Json = Record<string, unknown>;
type Io = 'input' | 'output';

/** Schema metadata read from Zod's global registry (`.meta({...})`). */
export function metaOf(schema: z.ZodType): Record<string, unknown> | undefined {
  return z.globalRegistry.get(schema) as Record<string, unknown> | undefined;
}

// Zod's openapi-3.0 target wraps optional references as `{ allOf: [{ $ref }] }`; alone, that is just the ref.
function unwrapSingleAllOf(node: unknown): unknown {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = unwrapSingleAllOf(node[i]);
    return node;
  }
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Json;
  for (const key of Object.keys(obj)) obj[key] = unwrapSingleAllOf(obj[key]);
  const allOf = obj.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && Object.keys(obj).length === 1) return allOf[0];
  return obj;
}

function rewriteRefs(node: unknown, rename: (ref: string) => string): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteRefs(item, rename);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Json;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (key === '$ref' && typeof value === 'string') obj[key] = rename(value);
    else if (value !== null && typeof value === 'object') rewriteRefs(value, rename);
  }
}

/**
 * Converts Zod schemas with Zod v4's own `z.toJSONSchema`, lifting named sub-schemas
 * (`.meta({ id })`) into `components.schemas`. One converter serves one document build, so a
 * schema shared by many routes is converted once.
 */
export class SchemaConverter {
  /** Named schemas collected so far, ready for `components.schemas`. */
  readonly components: Record<string, SchemaObject> = {};
  private readonly cache = new Map<z.ZodType, Partial<Record<Io, SchemaObject | ReferenceObject>>>();
  private readonly target: 'draft-2020-12' | 'openapi-3.0';
  private readonly defsKey: '$defs' | 'definitions';
  private anonymous = 0;
  // Per id, the JSON of each variant, in the order first seen: the first key owns the id.
  private readonly variants = new Map<string, Partial<Record<Io, string>>>();

  constructor(version: OpenApiVersion) {
    this.target = version === '3.0.3' ? 'openapi-3.0' : 'draft-2020-12';
    this.defsKey = version === '3.0.3' ? 'definitions' : '$defs';
  }

  /** The OpenAPI schema (or a `$ref` to a component) for `schema`, as accepted (`input`) or as sent (`output`). */
  convert(schema: z.ZodType, io: Io): SchemaObject | ReferenceObject {
    let entry = this.cache.get(schema);
    const hit = entry?.[io];
    if (hit) return hit;
    let json: Json;
    try {
      json = z.toJSONSchema(schema, {
        target: this.target,
        io,
        unrepresentable: 'any',
        reused: 'inline',
        cycles: 'ref',
      }) as Json;
    } catch (cause) {
      throw new OpenApiError(`Zod schema cannot be converted to JSON Schema: ${(cause as Error).message}`, {
        code: 'OPENAPI_SCHEMA_CONVERSION',
        cause,
      });
    }
    delete json.$schema;
    if (this.target === 'openapi-3.0') json = unwrapSingleAllOf(json) as Json;
    const defs = json[this.defsKey] as Record<string, Json> | undefined;
    if (defs) {
      delete json[this.defsKey];
      const renamed = new Map<string, string>();
      for (const [id, def] of Object.entries(defs)) renamed.set(id, this.nameFor(id, def, io));
      const prefix = `#/${this.defsKey}/`;
      const rename = (ref: string) =>
        ref.startsWith(prefix)
          ? `#/components/schemas/${renamed.get(ref.slice(prefix.length)) ?? ref.slice(prefix.length)}`
          : ref;
      rewriteRefs(json, rename);
      for (const [id, def] of Object.entries(defs)) {
        rewriteRefs(def, rename);
        this.components[renamed.get(id)!] = def as SchemaObject;
      }
    }
    const result = json as SchemaObject | ReferenceObject;
    if (!entry) this.cache.set(schema, (entry = {}));
    entry[io] = result;
    return result;
  }

  /** Resolves a `$ref` produced by this converter to its component. */
  resolve(schema: SchemaObject | ReferenceObject): SchemaObject {
    if ('$ref' in schema && typeof schema.$ref === 'string') {
      const name = schema.$ref.replace('#/components/schemas/', '');
      const found = this.components[name];
      if (!found)
        throw new OpenApiError(`Unresolved schema reference ${schema.$ref}`, { code: 'OPENAPI_SCHEMA_CONVERSION' });
      return found;
    }
    return schema as SchemaObject;
  }

  // A named schema can convert differently as input and output (defaults, transforms): the first
  // variant seen takes the id, the other one gets an Input/Output suffix. Two different schemas
  // with the same id (same io, different JSON) are an error: one would silently replace the other.
  private nameFor(id: string, def: Json, io: Io): string {
    if (id.startsWith('__schema')) return `Schema${this.anonymous++}`;
    const candidate = JSON.stringify(def).replaceAll(`"#/${this.defsKey}/`, '"#/components/schemas/');
    const seen = this.variants.get(id) ?? {};
    if (seen[io] !== undefined && seen[io] !== candidate) {
      throw new OpenApiError(`Two different Zod schemas use the component id "${id}"`, {
        code: 'OPENAPI_DUPLICATE_SCHEMA_ID',
      });
    }
    seen[io] = candidate;
    this.variants.set(id, seen);
    const owner = Object.keys(seen)[0] as Io;
    return owner === io || seen[owner] === candidate ? id : `${id}${io === 'input' ? 'Input' : 'Output'}`;
  }
}
