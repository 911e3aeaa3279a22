import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenCipher, parsePreviousKeys } from './token-crypto.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

describe('token cipher (AES-256-GCM with key ids)', () => {
  it('round-trips with a random IV per value', () => {
    const c = createTokenCipher({ keys: { k1 }, currentKeyId: 'k1' });
    const a = c.seal('secret-token', 'loc:access');
    const b = c.seal('secret-token', 'loc:access');
    expect(a.keyId).toBe('k1');
    expect(a.data.equals(b.data)).toBe(false);
    expect(a.data.length).toBe(1 + 12 + 16 + 'secret-token'.length);
    expect(a.data.includes(Buffer.from('secret-token'))).toBe(false);
    expect(c.open(a, 'loc:access')).toBe('secret-token');
  });

  it('detects tampering with the ciphertext, the IV, the tag, the format byte or the associated data', () => {
    const c = createTokenCipher({ keys: { k1 }, currentKeyId: 'k1' });
    const sealed = c.seal('secret-token', 'loc-a:access');
    for (const index of [0, 1, 13, 1 + 12 + 16]) {
      const data = Buffer.from(sealed.data);
      data[index] = data[index]! ^ 0x01;
      expect(() => c.open({ keyId: 'k1', data }, 'loc-a:access')).toThrow(
        expect.objectContaining({ code: 'TOKEN_DECRYPT_FAILED' }),
      );
    }
    expect(() => c.open(sealed, 'loc-b:access')).toThrow(expect.objectContaining({ code: 'TOKEN_DECRYPT_FAILED' }));
  });

  it('enforces 16-byte tags: a truncated envelope (shorter tag) is refused', () => {
    const c = createTokenCipher({ keys: { k1 }, currentKeyId: 'k1' });
    const sealed = c.seal('', 'x');
    expect(() => c.open({ keyId: 'k1', data: sealed.data.subarray(0, sealed.data.length - 4) }, 'x')).toThrow(
      expect.objectContaining({ code: 'TOKEN_DECRYPT_FAILED' }),
    );
  });

  it('rotates: encrypts with the current key, decrypts older values with their key id, refuses unknown ids', () => {
    const old = createTokenCipher({ keys: { k1 }, currentKeyId: 'k1' }).seal('t', 'aad');
    const rotated = createTokenCipher({ keys: { k1, k2 }, currentKeyId: 'k2' });
    expect(rotated.open(old, 'aad')).toBe('t');
    expect(rotated.isStale(old.keyId)).toBe(true);
    const fresh = rotated.seal('t', 'aad');
    expect(fresh.keyId).toBe('k2');
    const retired = createTokenCipher({ keys: { k2 }, currentKeyId: 'k2' });
    expect(() => retired.open(old, 'aad')).toThrow(expect.objectContaining({ code: 'TOKEN_UNKNOWN_KEY' }));
    // A value labelled with the wrong key id fails authentication rather than decrypting to garbage.
    expect(() => rotated.open({ keyId: 'k1', data: fresh.data }, 'aad')).toThrow(
      expect.objectContaining({ code: 'TOKEN_DECRYPT_FAILED' }),
    );
  });

  it('refuses bad options', () => {
    expect(() => createTokenCipher({ keys: { k1: randomBytes(16) }, currentKeyId: 'k1' })).toThrow(
      expect.objectContaining({ code: 'GHL_INVALID_OPTIONS' }),
    );
    expect(() => createTokenCipher({ keys: { k1 }, currentKeyId: 'k9' })).toThrow(
      expect.objectContaining({ code: 'GHL_INVALID_OPTIONS' }),
    );
    expect(() => parsePreviousKeys('nokey', () => undefined)).toThrow(
      expect.objectContaining({ code: 'GHL_INVALID_OPTIONS' }),
    );
    expect(Object.keys(parsePreviousKeys(`old:${k1.toString('hex')}`, (raw) => Buffer.from(raw, 'hex')))).toEqual([
      'old',
    ]);
  });
});
