import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { HttpError } from '../http/errors.js';
import type { TokenStore } from './token-store.js';
import { ROUTER_OPTIONS } from '../http/routing.js';

/** Reads an Ed25519 public key given as PEM or as base64 SPKI DER (the form GHL publishes). */
export function parseWebhookPublicKey(value: string): KeyObject {
  const key = value.includes('BEGIN PUBLIC KEY')
    ? createPublicKey(value)
    : createPublicKey({ key: Buffer.from(value.trim(), 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('the GHL webhook public key must be an Ed25519 key');
  return key;
}

/** Ed25519 over the exact raw body bytes; false on any malformed signature. */
export function verifyGhlSignature(rawBody: Buffer, signature: string, publicKey: KeyObject): boolean {
  const sig = Buffer.from(signature.trim(), 'base64');
  if (sig.length !== 64) return false;
  try {
    return verify(null, rawBody, publicKey, sig);
  } catch {
    return false;
  }
}

const eventSchema = z.looseObject({
  type: z.string().min(1),
  webhookId: z.string().min(1).max(200),
  timestamp: z.iso.datetime({ offset: true }),
  locationId: z.string().min(1).optional(),
  companyId: z.string().optional(),
  appId: z.string().optional(),
});

export interface WebhookRouterOptions {
  db: Database;
  tokens: TokenStore;
  /** Undefined: the endpoint answers 503 (not configured). */
  publicKey: KeyObject | undefined;
  /** Accepted age (and clock skew ahead) of `timestamp`. @default 300000 */
  toleranceMs?: number;
  logger: Logger;
  /** Called after an event is committed (e.g. to drop cached data of an uninstalled location). */
  onEvent?: (event: { type: string; locationId?: string }) => void | Promise<void>;
  /** @default Date.now */
  now?: () => number;
}

/**
 * `POST /webhooks/ghl`: app INSTALL / UNINSTALL events. Mounted before the JSON body parser: the signature covers the
 * raw bytes. Refused without writing anything: a missing or bad signature (401), a stale or future timestamp (400),
 * an already-seen webhookId (409).
 */
export function createGhlWebhookRouter(options: WebhookRouterOptions): Router {
  const tolerance = options.toleranceMs ?? 300_000;
  const now = options.now ?? Date.now;
  const router = Router(ROUTER_OPTIONS);
  router.post('/webhooks/ghl', express.raw({ type: () => true, limit: '100kb' }), async (req, res) => {
    if (!options.publicKey)
      throw new HttpError(503, 'WEBHOOK_NOT_CONFIGURED', 'GHL webhooks are not configured (GHL_WEBHOOK_PUBLIC_KEY)');
    const signature = req.get('x-ghl-signature');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!signature) throw new HttpError(401, 'WEBHOOK_SIGNATURE_MISSING', 'X-GHL-Signature is required');
    if (!verifyGhlSignature(raw, signature, options.publicKey))
      throw new HttpError(401, 'WEBHOOK_SIGNATURE_INVALID', 'The webhook signature does not verify');
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'INVALID_JSON', 'The webhook body is not valid JSON');
    }
    const parsed = eventSchema.safeParse(json);
    if (!parsed.success)
      throw new HttpError(400, 'VALIDATION_ERROR', 'The webhook body lacks type, webhookId or timestamp');
    const event = parsed.data;
    const at = Date.parse(event.timestamp);
    if (Math.abs(now() - at) > tolerance)
      throw new HttpError(400, 'WEBHOOK_STALE', 'The webhook timestamp is outside the accepted window');

    await options.db.transaction(async (q) => {
      const { rowCount } = await q.query(
        'INSERT INTO ghl_webhook_events (webhook_id, event_type, location_id, event_timestamp) VALUES ($1, $2, $3, $4) ON CONFLICT (webhook_id) DO NOTHING',
        [event.webhookId, event.type, event.locationId ?? null, new Date(at)],
      );
      if (rowCount === 0) throw new HttpError(409, 'WEBHOOK_REPLAYED', 'This webhookId was already processed');
      if (event.type === 'UNINSTALL' && event.locationId) {
        // The location's access ends with the installation, all at once: its tokens, every session, every API key.
        await options.tokens.remove(q, event.locationId);
        await q.query('DELETE FROM sessions WHERE location_id = $1', [event.locationId]);
        await q.query('UPDATE api_keys SET revoked_at = now() WHERE location_id = $1 AND revoked_at IS NULL', [
          event.locationId,
        ]);
      }
    });
    options.logger.info(
      { type: event.type, locationId: event.locationId, webhookId: event.webhookId },
      'GHL webhook processed',
    );
    await options.onEvent?.({ type: event.type, locationId: event.locationId });
    res.json({ success: true });
  });
  return router;
}
