import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GhlError } from './errors.js';

/** Format version byte, so the envelope layout can change without guessing. */
const FORMAT_V1 = 0x01;
const IV_BYTES = 12;
/** GCM tags are always 16 bytes here: shorter tags (which Node accepts by default) would weaken forgery resistance. */
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** An encrypted value and the id of the key that sealed it (stored next to it, e.g. `ghl_oauth_tokens.key_id`). */
export interface Sealed {
  keyId: string;
  /** version (1) | iv (12) | tag (16) | ciphertext */
  data: Buffer;
}

/** Options of `createTokenCipher`. */
export interface TokenCipherOptions {
  /** Every key that may have sealed stored data, by id; each 32 bytes (AES-256). */
  keys: Readonly<Record<string, Buffer>>;
  /** The id of the key new values are sealed with; must be in `keys`. */
  currentKeyId: string;
}

/** AES-256-GCM with a key id per value: encrypt with the current key, decrypt with the value's key. */
export interface TokenCipher {
  readonly currentKeyId: string;
  seal(plaintext: string, associatedData?: string): Sealed;
  open(sealed: Sealed, associatedData?: string): string;
  /** Whether `keyId` is not the current key (the value should be re-sealed). */
  isStale(keyId: string): boolean;
}

export function createTokenCipher(options: TokenCipherOptions): TokenCipher {
  const keys = new Map<string, Buffer>();
  for (const [id, key] of Object.entries(options.keys)) {
    if (!KEY_ID.test(id)) throw new GhlError('GHL_INVALID_OPTIONS', `encryption key id "${id}" must match ${KEY_ID}`);
    if (!Buffer.isBuffer(key) || key.length !== 32)
      throw new GhlError('GHL_INVALID_OPTIONS', `encryption key "${id}" must be 32 bytes`);
    keys.set(id, Buffer.from(key));
  }
  const current = keys.get(options.currentKeyId);
  if (!current)
    throw new GhlError('GHL_INVALID_OPTIONS', `the current encryption key id "${options.currentKeyId}" has no key`);
  const currentKeyId = options.currentKeyId;

  return {
    currentKeyId,
    seal(plaintext, associatedData) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv, { authTagLength: TAG_BYTES });
      if (associatedData !== undefined) cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { keyId: currentKeyId, data: Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), body]) };
    },
    open(sealed, associatedData) {
      const key = keys.get(sealed.keyId);
      if (!key) throw new GhlError('TOKEN_UNKNOWN_KEY', `no encryption key with id "${sealed.keyId}" is configured`);
      const data = sealed.data;
      if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== FORMAT_V1) {
        throw new GhlError('TOKEN_DECRYPT_FAILED', 'the encrypted value is malformed');
      }
      const iv = data.subarray(1, 1 + IV_BYTES);
      const tag = data.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAuthTag(tag);
        if (associatedData !== undefined) decipher.setAAD(Buffer.from(associatedData, 'utf8'));
        return Buffer.concat([decipher.update(data.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
          'utf8',
        );
      } catch (error) {
        throw new GhlError(
          'TOKEN_DECRYPT_FAILED',
          'the encrypted value failed authentication (tampered, or sealed with another key)',
          { cause: error },
        );
      }
    },
    isStale: (keyId) => keyId !== currentKeyId,
  };
}

/**
 * Parses `ENCRYPTION_PREVIOUS_KEYS`: `id:key,id:key` with 32-byte keys in hex or base64 (the retired keys that still
 * decrypt stored rows until `reencryptStoredTokens` has re-sealed them).
 */
export function parsePreviousKeys(
  value: string | undefined,
  decode: (raw: string) => Buffer | undefined,
): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  if (!value) return out;
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = part.indexOf(':');
    const id = part.slice(0, colon);
    const key = colon > 0 ? decode(part.slice(colon + 1)) : undefined;
    if (!key || !KEY_ID.test(id))
      throw new GhlError('GHL_INVALID_OPTIONS', 'ENCRYPTION_PREVIOUS_KEYS must be "id:key" pairs with 32-byte keys');
    out[id] = key;
  }
  return out;
}
