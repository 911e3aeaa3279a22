import { gzipSync } from 'node:zlib';
import compression from 'compression';
import type { Request, Response } from 'express';
import { COMPRESSION } from './compression.js';

/**
 * Sends cached JSON values without serializing and gzipping them again on every request. The bytes are kept per
 * cached object (a WeakMap: when the cache hands out a new object, e.g. after a Redis read, it is encoded once more,
 * and entries vanish with their objects). The response is what the compression middleware would send: gzip level 6
 * only above the 1 KiB threshold, only when the client accepts gzip, never with `x-no-compression`, `Vary:
 * Accept-Encoding` either way. The compression middleware leaves a response that already has a Content-Encoding alone.
 */
export function createCachedJsonSender(): (req: Request, res: Response, value: object) => void {
  const encoded = new WeakMap<object, { json: Buffer; gzip: Buffer | undefined }>();
  return (req, res, value) => {
    let entry = encoded.get(value);
    if (!entry) {
      const json = Buffer.from(JSON.stringify(value));
      entry = {
        json,
        gzip: json.length >= COMPRESSION.threshold ? gzipSync(json, { level: COMPRESSION.level }) : undefined,
      };
      encoded.set(value, entry);
    }
    res.type('application/json');
    res.vary('Accept-Encoding');
    const gzip =
      entry.gzip &&
      !req.headers['x-no-compression'] &&
      compression.filter(req, res) &&
      req.acceptsEncodings('gzip', 'identity') === 'gzip';
    if (gzip) {
      res.setHeader('Content-Encoding', 'gzip');
      res.send(entry.gzip);
    } else {
      res.send(entry.json);
    }
  };
}
