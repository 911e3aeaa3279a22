import { describe, expect, it } from 'vitest';
import { safeEqual, sign, unsign } from './tokens.js';

describe('signed values', () => {
  it('round-trips and refuses a changed value, a changed signature or another secret', () => {
    const signed = sign('abc', 'secret-1');
    expect(unsign(signed, 'secret-1')).toBe('abc');
    expect(unsign(signed.replace('abc', 'abd'), 'secret-1')).toBeUndefined();
    expect(unsign(`${signed}x`, 'secret-1')).toBeUndefined();
    expect(unsign(signed, 'secret-2')).toBeUndefined();
    expect(unsign('no-dot', 'secret-1')).toBeUndefined();
  });

  it('compares strings of different lengths without throwing', () => {
    expect(safeEqual('a', 'ab')).toBe(false);
    expect(safeEqual('same', 'same')).toBe(true);
  });
});
