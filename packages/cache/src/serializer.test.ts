import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheSerializationError } from './errors.js';
import { decode, encode } from './serializer.js';

const roundTrip = (value: unknown) => {
  const { tagged, body } = encode(value);
  return decode(tagged, body);
};

describe('serializer', () => {
  it('keeps plain JSON on the fast path', () => {
    expect(encode({ a: [1, 'x', null, true] })).toEqual({ tagged: false, body: '{"a":[1,"x",null,true]}' });
  });

  it('round-trips Date, BigInt, Map, Set, Buffer, typed arrays, undefined fields, holes, NaN, ±Infinity and -0', () => {
    const value = {
      d: new Date(0),
      invalid: new Date(Number.NaN),
      b: -(2n ** 70n),
      m: new Map<unknown, unknown>([[{ k: 1 }, new Set([1n])]]),
      buf: Buffer.from([0, 1, 2]),
      i16: new Int16Array([-1, 2]),
      u64: new BigUint64Array([2n ** 63n]),
      ab: new Uint8Array([9, 8]).buffer,
      u: undefined,
      arr: [undefined, Number.NaN, Infinity, -Infinity, -0],
      // eslint-disable-next-line no-sparse-arrays
      holes: [1, , 3],
      marker: { '\u0000': 'u', v: 1 },
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(Buffer.isBuffer(back.buf)).toBe(true);
    expect(back.i16).toBeInstanceOf(Int16Array);
    expect(back.ab).toBeInstanceOf(ArrayBuffer);
    expect(Object.is(back.arr[4], -0)).toBe(true);
    expect(Number.isNaN(back.invalid.getTime())).toBe(true);
    expect(back.marker).toEqual({ '\u0000': 'u', v: 1 });
  });

  it('refuses what cannot come back identical, with a typed error naming the path', () => {
    class Money {
      cents = 1;
    }
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    for (const [value, path] of [
      [() => 1, 'the root'],
      [{ a: { b: Symbol('x') } }, '.a.b'],
      [{ m: new Money() }, '.m'],
      [cyclic, '[0]'],
      [new WeakMap(), 'the root'],
      [undefined, ''],
    ] as const) {
      let error: unknown;
      try {
        encode(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CacheSerializationError);
      expect((error as CacheSerializationError).code).toBe('CACHE_UNSERIALIZABLE');
      expect((error as Error).message).toContain(path);
    }
  });

  it('a key named __proto__ stays an own property and never sets a prototype, going in or coming back', () => {
    // As JSON.parse builds it: an own property, here holding a tagged value (a Map) and a plain object.
    const value = JSON.parse('{"__proto__": {"polluted": true}, "n": 1}') as Record<string, unknown>;
    Object.defineProperty(value, 'm', { value: { ['__proto__']: new Map([[1, 2]]) }, enumerable: true });
    Object.defineProperty(value.m as object, '__proto__', {
      value: new Map([[1, 2]]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const back = roundTrip(value) as Record<string, unknown>;
    expect(back).toEqual(value);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(back.m)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back.m, '__proto__')?.value).toEqual(new Map([[1, 2]]));
    expect((back as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('round-trips any value built from the supported types (property)', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.bigInt(),
      fc.date(),
      fc.uint8Array().map((a) => Buffer.from(a)),
      fc.float32Array(),
      fc.int32Array(),
    );
    const value = fc
      .letrec((tie) => ({
        node: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          leaf,
          tie('array'),
          tie('object'),
          tie('map'),
          tie('set'),
        ),
        array: fc.array(tie('node'), { maxLength: 4 }),
        object: fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 }),
        map: fc.array(fc.tuple(leaf, tie('node')), { maxLength: 3 }).map((entries) => new Map(entries)),
        set: fc.array(leaf, { maxLength: 3 }).map((items) => new Set(items)),
      }))
      .node.filter((v) => v !== undefined);
    fc.assert(
      fc.property(value, (v) => {
        expect(roundTrip(v)).toEqual(v);
      }),
      { numRuns: 300 },
    );
  });
});
