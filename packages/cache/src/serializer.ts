import { CacheSerializationError } from './errors.js';

/**
 * Values are stored as text, identical for both tiers:
 * - plain JSON when the value is pure JSON (the fast path: `JSON.parse` alone decodes it);
 * - "tagged" JSON otherwise, where Date, BigInt, Map, Set, Buffer, typed arrays, undefined fields,
 *   NaN/Infinity/-0 become `{"\u0000": tag, "v": ...}` objects and are revived on decode.
 * Anything else (functions, symbols, class instances, cycles) is refused with a typed error,
 * because it could not come back identical.
 */
export interface Encoded {
  tagged: boolean;
  body: string;
}

const MARK = '\u0000';
const MAX_DEPTH = 512;

type TypedArrayCtor = new (buffer: ArrayBuffer) => ArrayBufferView;
const TYPED: Record<string, TypedArrayCtor> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Where the inspection is, kept as a stack and formatted only when a value is refused: building a path string for
// every nested value would allocate on every set. Numbers are array indexes, these symbols Map/Set positions.
const MAP_KEY = Symbol('<key>');
const MAP_VALUE = Symbol('<value>');
const SET_ITEM = Symbol('<item>');
type Segment = string | number | symbol;

function refuse(path: readonly Segment[], what: string): never {
  const at = path
    .map((s) => (typeof s === 'number' ? `[${s}]` : typeof s === 'symbol' ? s.description! : `.${s}`))
    .join('');
  throw new CacheSerializationError(`cannot cache ${what} at ${at || 'the root'}: it would not come back identical`);
}

function typeName(value: object): string {
  return (value.constructor as { name?: string } | undefined)?.name ?? 'object';
}

// Heap estimate (64-bit V8, no pointer compression): what the memory tier charges against maxBytes.
const SLOT = 8;
const OBJECT_HEADER = 24;
const STRING_HEADER = 16;
const HEAP_NUMBER = 16;
const stringBytes = (s: string) => (STRING_HEADER + s.length + 7) & ~7;

/** Size accumulator of one inspection. */
interface Inspection {
  size: number;
}

/**
 * Whether a value needs the tagged form; throws for values that cannot be cached at all. Adds the
 * value's estimated heap size to `acc` on the way.
 */
function needsTags(value: unknown, path: Segment[], depth: number, ancestors: object[], acc: Inspection): boolean {
  switch (typeof value) {
    case 'string':
      acc.size += SLOT + stringBytes(value);
      return false;
    case 'boolean':
      acc.size += SLOT;
      return false;
    case 'number':
      acc.size += SLOT + ((value | 0) === value ? 0 : HEAP_NUMBER);
      return !Number.isFinite(value) || Object.is(value, -0);
    case 'bigint':
      acc.size += SLOT + HEAP_NUMBER + SLOT * Math.ceil(value.toString(16).length / 16);
      return true;
    case 'undefined':
      acc.size += SLOT;
      return true;
    case 'function':
      return refuse(path, 'a function');
    case 'symbol':
      return refuse(path, 'a symbol');
  }
  acc.size += SLOT;
  if (value === null) return false;
  const obj = value as object;
  if (depth > MAX_DEPTH) refuse(path, `a value nested deeper than ${MAX_DEPTH}`);
  if (ancestors.includes(obj)) refuse(path, 'a circular reference');
  let tagged = false;
  ancestors.push(obj);
  if (Array.isArray(obj)) {
    acc.size += OBJECT_HEADER;
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) {
        tagged = true; // a hole comes back as undefined
        continue;
      }
      path.push(i);
      if (needsTags(obj[i], path, depth + 1, ancestors, acc)) tagged = true;
      path.pop();
    }
  } else if (isPlainObject(obj)) {
    acc.size += OBJECT_HEADER;
    for (const k in obj) {
      if (k === MARK) tagged = true;
      path.push(k);
      if (needsTags((obj as Record<string, unknown>)[k], path, depth + 1, ancestors, acc)) tagged = true;
      path.pop();
    }
  } else if (obj instanceof Date) {
    acc.size += OBJECT_HEADER + HEAP_NUMBER;
    tagged = true;
  } else if (
    Buffer.isBuffer(obj) ||
    obj instanceof ArrayBuffer ||
    (ArrayBuffer.isView(obj) && TYPED[typeName(obj)] !== undefined)
  ) {
    acc.size += 4 * OBJECT_HEADER + (obj as ArrayBufferView | ArrayBuffer).byteLength;
    tagged = true;
  } else if (obj instanceof Map) {
    acc.size += 4 * OBJECT_HEADER;
    for (const [k, v] of obj) {
      path.push(MAP_KEY);
      needsTags(k, path, depth + 1, ancestors, acc);
      path[path.length - 1] = MAP_VALUE;
      needsTags(v, path, depth + 1, ancestors, acc);
      path.pop();
    }
    tagged = true;
  } else if (obj instanceof Set) {
    acc.size += 4 * OBJECT_HEADER;
    path.push(SET_ITEM);
    for (const v of obj) needsTags(v, path, depth + 1, ancestors, acc);
    path.pop();
    tagged = true;
  } else {
    refuse(path, `an instance of ${typeName(obj)}`);
  }
  ancestors.pop();
  return tagged;
}

const bytesOf = (view: ArrayBufferView): string =>
  Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');

/** The JSON-safe tree of a value that needs tags (already validated by `needsTags`). */
function toTree(value: unknown): unknown {
  switch (typeof value) {
    case 'undefined':
      return { [MARK]: 'u' };
    case 'bigint':
      return { [MARK]: 'b', v: value.toString() };
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0)
        ? value
        : { [MARK]: 'n', v: Object.is(value, -0) ? '-0' : String(value) };
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toTree(value[i]);
    return out;
  }
  if (value instanceof Date) return { [MARK]: 'd', v: String(value.getTime()) };
  if (Buffer.isBuffer(value)) return { [MARK]: 'B', v: bytesOf(value) };
  if (ArrayBuffer.isView(value)) return { [MARK]: 'a', k: typeName(value), v: bytesOf(value) };
  if (value instanceof ArrayBuffer) return { [MARK]: 'A', v: Buffer.from(value).toString('base64') };
  if (value instanceof Map) return { [MARK]: 'm', v: [...value].map(([k, v]) => [toTree(k), toTree(v)]) };
  if (value instanceof Set) return { [MARK]: 's', v: [...value].map(toTree) };
  const out: Record<string, unknown> = {};
  for (const k in value) put(out, k, toTree((value as Record<string, unknown>)[k]));
  // A user object that happens to use the marker key is wrapped so it is not mistaken for a tag.
  return Object.prototype.hasOwnProperty.call(out, MARK) ? { [MARK]: 'o', v: out } : out;
}

/**
 * `obj[k] = v`, except that a key named `__proto__` becomes an own property (as JSON.parse makes it) instead of
 * replacing the object's prototype: a cached object round-trips as it was, and no cached data can set a prototype.
 */
function put(obj: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[k] = v;
}

function fromBase64(b64: string): ArrayBuffer {
  const buf = Buffer.from(b64, 'base64');
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function revive(node: unknown): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = revive(node[i]);
    return node;
  }
  const obj = node as Record<string, unknown>;
  const tag = obj[MARK];
  if (tag === undefined) {
    for (const k in obj) put(obj, k, revive(obj[k]));
    return obj;
  }
  const v = obj.v;
  switch (tag) {
    case 'u':
      return undefined;
    case 'b':
      return BigInt(v as string);
    case 'n':
      return v === '-0' ? -0 : Number(v);
    case 'd':
      return new Date(Number(v));
    case 'B':
      return Buffer.from(v as string, 'base64');
    case 'a': {
      const Ctor = TYPED[obj.k as string];
      if (!Ctor) throw new CacheSerializationError(`unknown typed array ${String(obj.k)} in a cached value`);
      return new Ctor(fromBase64(v as string));
    }
    case 'A':
      return fromBase64(v as string);
    case 'm':
      return new Map((v as [unknown, unknown][]).map(([k, x]) => [revive(k), revive(x)]));
    case 's':
      return new Set((v as unknown[]).map(revive));
    case 'o': {
      const inner = v as Record<string, unknown>;
      for (const k in inner) put(inner, k, revive(inner[k]));
      return inner;
    }
    default:
      throw new CacheSerializationError(`unknown tag ${String(tag)} in a cached value`);
  }
}

/**
 * Checks that a value can be cached (it would come back identical from Redis) and estimates its
 * heap size; throws `CacheSerializationError` otherwise. The memory tier stores what passed as is.
 */
export function inspect(value: unknown): { tagged: boolean; size: number } {
  if (value === undefined) throw new CacheSerializationError('cannot cache undefined: it is what a miss returns');
  const acc: Inspection = { size: 0 };
  try {
    const tagged = needsTags(value, [], 0, [], acc);
    return { tagged, size: acc.size };
  } catch (error) {
    if (error instanceof CacheSerializationError) throw error;
    throw new CacheSerializationError('cannot inspect the value', { cause: error });
  }
}

/** Encodes a value for Redis; throws `CacheSerializationError` for what cannot round-trip. */
export function encode(value: unknown, tagged = inspect(value).tagged): Encoded {
  return tagged
    ? { tagged: true, body: JSON.stringify(toTree(value)) }
    : { tagged: false, body: JSON.stringify(value) };
}

/** Decodes what `encode` produced. */
export function decode(tagged: boolean, body: string): unknown {
  return tagged ? revive(JSON.parse(body)) : JSON.parse(body);
}
