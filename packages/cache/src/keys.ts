import { CacheKeyError, CacheOptionsError } from './errors.js';

/** The `{name}` placeholders of a key template, in order. */
export type KeyParams<T extends string> = T extends `${string}{${infer P}}${infer Rest}` ? [P, ...KeyParams<Rest>] : [];

/** A value that may fill a placeholder. */
export type KeyPart = string | number | bigint;

/** One `KeyPart` per placeholder of a key template. */
export type KeyArgs<T extends string> = T extends `${string}{${string}}${infer Rest}`
  ? [KeyPart, ...KeyArgs<Rest>]
  : [];

/** The factory built from one template: one positional argument per placeholder. */
export type KeyFactory<T extends string> = ((...parts: KeyArgs<T>) => string) & {
  /** The template it was built from, e.g. `workflow:{locationId}:{workflowId}`. */
  readonly template: T;
};

/** Typed key factories, one per template. */
export type KeyFactories<T extends Record<string, string>> = { readonly [K in keyof T]: KeyFactory<T[K]> };

export interface DefineKeysOptions {
  /**
   * The placeholder that names the tenant. Its value becomes the Redis Cluster hash tag (`{value}`),
   * so all keys of one tenant live in one slot. Templates without it get no hash tag.
   * @default the first placeholder of each template
   */
  tenant?: string;
}

// `%`, `{`, `}` and `:` are escaped in key parts so that a value can neither open a hash tag nor
// pretend to be a separator: two different argument lists never build the same key.
const UNSAFE = /[%{}:]/g;
const escapePart = (s: string): string => s.replace(UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Turns one key argument into its escaped text; rejects empty or non-scalar parts. */
export function keyPart(value: unknown, what: string): string {
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new CacheKeyError(`${what} must be a finite number, got ${value}`);
    return String(value);
  }
  if (typeof value !== 'string' || value.length === 0)
    throw new CacheKeyError(`${what} must be a non-empty string or a number`);
  return escapePart(value);
}

const PLACEHOLDER = /\{([A-Za-z_$][\w$]*)\}/g;

/**
 * Builds typed key factories from templates such as `workflow:{locationId}:{workflowId}`.
 * `CacheKeys.workflow(loc, wf)` gives `workflow:{loc}:wf`: the tenant part is wrapped in a hash tag.
 */
export function defineKeys<const T extends Record<string, string>>(
  templates: T,
  options: DefineKeysOptions = {},
): KeyFactories<T> {
  if (templates === null || typeof templates !== 'object')
    throw new CacheOptionsError('defineKeys expects an object of templates');
  const out: Record<string, unknown> = {};
  for (const [name, template] of Object.entries(templates)) {
    if (typeof template !== 'string' || template.length === 0)
      throw new CacheOptionsError(`defineKeys: template "${name}" must be a non-empty string`);
    const params = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
    const stripped = template.replace(PLACEHOLDER, '');
    if (stripped.includes('{') || stripped.includes('}'))
      throw new CacheOptionsError(`defineKeys: template "${name}" has a brace that is not a {placeholder}`);
    if (new Set(params).size !== params.length)
      throw new CacheOptionsError(`defineKeys: template "${name}" repeats a placeholder`);
    const tenant = options.tenant ?? params[0];
    // Split once so that building a key is a loop over constant pieces.
    const pieces = template.split(PLACEHOLDER); // [text, param, text, param, text]
    const factory = (...args: unknown[]): string => {
      if (args.length !== params.length)
        throw new CacheKeyError(
          `${name}(${params.join(', ')}) expects ${params.length} argument(s), got ${args.length}`,
        );
      let key = pieces[0]!;
      for (let i = 0; i < params.length; i++) {
        const param = params[i]!;
        const part = keyPart(args[i], `${name}: ${param}`);
        key += (param === tenant ? `{${part}}` : part) + pieces[2 * i + 2]!;
      }
      return key;
    };
    Object.defineProperty(factory, 'template', { value: template, enumerable: true });
    Object.defineProperty(factory, 'name', { value: name });
    out[name] = factory;
  }
  return Object.freeze(out) as KeyFactories<T>;
}
