import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a secret as stored in the database (sessions, API keys): a leaked table yields no usable credential. */
export const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** A random, URL-safe secret of `bytes` bytes of entropy. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** Constant-time string comparison (compares digests so that lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** `value.signature` with an HMAC-SHA256 under `secret`. */
export function sign(value: string, secret: string): string {
  return `${value}.${createHmac('sha256', secret).update(value).digest('base64url')}`;
}

/** The value of a signed string, or undefined when the signature does not match. */
export function unsign(signed: string, secret: string): string | undefined {
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  const expected = Buffer.from(createHmac('sha256', secret).update(value).digest('base64url'));
  const given = Buffer.from(signed.slice(dot + 1));
  // The signature's length is public (43 characters): only equal lengths are compared, in constant time.
  return given.length === expected.length && timingSafeEqual(expected, given) ? value : undefined;
}
