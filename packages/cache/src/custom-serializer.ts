import { CacheOptionsError, CacheSerializationError } from './errors.js';
import { decode, encode, inspect } from './serializer.js';
import type { CacheSerializer } from './types.js';

/** A value checked for writing: `size` is what the memory tier charges; `body` is the serialized text, when known. */
export interface Checked {
  value: unknown;
  tagged: boolean;
  size: number;
  body?: string;
}

/** How the cache checks, encodes and decodes values: the built-in lossless JSON encoding or the `serializer` option. */
export interface Codec {
  /** Throws `CacheSerializationError` for a value that cannot be stored. */
  check(value: unknown): Checked;
  encode(checked: Checked): { tagged: boolean; body: string };
  decode(tagged: boolean, body: string): unknown;
}

export const builtinCodec: Codec = {
  check(value) {
    const { tagged, size } = inspect(value);
    return { value, tagged, size };
  },
  encode: (checked) => encode(checked.value, checked.tagged),
  decode,
};

export function checkSerializer(serializer: unknown): CacheSerializer | undefined {
  if (serializer === undefined) return undefined;
  const s = serializer as Partial<CacheSerializer> | null;
  if (typeof s !== 'object' || s === null || typeof s.serialize !== 'function' || typeof s.deserialize !== 'function') {
    throw new CacheOptionsError(
      'createCache: "serializer" must have serialize(value) => string and deserialize(text) => value',
    );
  }
  return s as CacheSerializer;
}

// What a string of n UTF-16 units costs on the heap, roughly (the header plus the characters).
const textSize = (body: string): number => 16 + body.length * 2;

/**
 * The `serializer` option: each value is serialized once per write (its length stands in for the memory size), and
 * records are always read back through `deserialize`.
 */
export function customCodec(serializer: CacheSerializer): Codec {
  return {
    check(value) {
      let body: unknown;
      try {
        body = serializer.serialize(value);
      } catch (error) {
        throw new CacheSerializationError('the cache serializer refused the value', { cause: error });
      }
      if (typeof body !== 'string')
        throw new CacheSerializationError(
          `the cache serializer must return a string, got ${body === null ? 'null' : typeof body}`,
        );
      return { value, tagged: false, size: textSize(body), body };
    },
    encode: (checked) => ({ tagged: false, body: checked.body ?? (serializer.serialize(checked.value) as string) }),
    decode: (_tagged, body) => serializer.deserialize(body),
  };
}
