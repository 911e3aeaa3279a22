/**
 * The record a value is stored as in Redis: `<j|t><expiresAt>:<ttlMs>:<body>`. The logical expiry travels with the
 * value because the Redis TTL also covers the grace period; `t` marks a body in the tagged (lossless) encoding.
 */
import type { Checked, Codec } from './custom-serializer.js';

/** A record read back from Redis, before its body is decoded. */
export interface StoredRecord {
  tagged: boolean;
  expiresAt: number;
  ttlMs: number;
  body: string;
}

export function toRecord(codec: Codec, checked: Checked, expiresAt: number, ttlMs: number): string {
  const encoded = codec.encode(checked);
  return `${encoded.tagged ? 't' : 'j'}${expiresAt}:${ttlMs}:${encoded.body}`;
}

/** The fields of a record, or undefined for text that is not one (a foreign or corrupt value). */
export function parseRecord(raw: string): StoredRecord | undefined {
  const kind = raw.charCodeAt(0);
  if (kind !== 106 /* j */ && kind !== 116 /* t */) return undefined;
  // Two decimal fields, read without allocating substrings.
  let i = 1;
  let expiresAt = 0;
  let ttlMs = 0;
  for (let c = raw.charCodeAt(i); c >= 48 && c <= 57; c = raw.charCodeAt(++i)) expiresAt = expiresAt * 10 + (c - 48);
  if (i === 1 || raw.charCodeAt(i) !== 58 /* : */) return undefined;
  const start = ++i;
  for (let c = raw.charCodeAt(i); c >= 48 && c <= 57; c = raw.charCodeAt(++i)) ttlMs = ttlMs * 10 + (c - 48);
  if (i === start || raw.charCodeAt(i) !== 58) return undefined;
  return { tagged: kind === 116, expiresAt, ttlMs, body: raw.slice(i + 1) };
}
