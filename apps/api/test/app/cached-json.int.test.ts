// createCachedJsonSender through the real pipeline (createApp, compression middleware in place): the response is what
// res.json + the compression middleware would send, and the cached object is serialized and gzipped once.
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCachedJsonSender } from '../../src/http/cached-json.js';
import { startApp, type App } from '../support/app.js';

const pgUp = await hasSharedPostgres();

function raw(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
    (resolve, reject) => {
      const req = request(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

const large = { success: true, data: Array.from({ length: 60 }, (_, i) => ({ id: `wf-${i}`, name: `workflow ${i}` })) };
const small = { success: true, data: [{ id: 'wf-1' }] };

describe.skipIf(!pgUp)('cached JSON responses', () => {
  let pg: SharedPostgres;
  let app: App;
  let stringified = 0;
  beforeAll(async () => {
    pg = await sharedPostgres('api_cached_json');
    const send = createCachedJsonSender();
    app = await startApp({
      url: pg.url,
      extraApiRoutes(router) {
        router.get('/test/cached/:size', (req, res) => {
          const value = req.params.size === 'large' ? large : small;
          const before = JSON.stringify;
          // Count serializations of the cached object: a hit must not serialize it again.
          JSON.stringify = ((v: unknown, ...rest: []) =>
            v === value ? (stringified++, before(v, ...rest)) : before(v, ...rest)) as typeof JSON.stringify;
          try {
            send(req, res, value);
          } finally {
            JSON.stringify = before;
          }
        });
        router.get('/test/plain/:size', (req, res) => {
          res.json(req.params.size === 'large' ? large : small);
        });
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await pg?.cleanup();
  });

  it('gzips above the threshold when accepted, like the compression middleware, and encodes each object once', async () => {
    const cached = await raw(`${app.base}/api/test/cached/large`, { 'accept-encoding': 'gzip' });
    const plain = await raw(`${app.base}/api/test/plain/large`, { 'accept-encoding': 'gzip' });
    for (const r of [cached, plain]) {
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(String(r.headers.vary)).toMatch(/Accept-Encoding/);
    }
    expect(gunzipSync(cached.body).toString()).toBe(gunzipSync(plain.body).toString());
    expect(JSON.parse(gunzipSync(cached.body).toString())).toEqual(large);
    await raw(`${app.base}/api/test/cached/large`, { 'accept-encoding': 'gzip' });
    await raw(`${app.base}/api/test/cached/large`, {});
    expect(stringified).toBe(1);
  });

  it('sends identity below the threshold, without Accept-Encoding gzip, and with x-no-compression', async () => {
    for (const [path, headers] of [
      ['/api/test/cached/small', { 'accept-encoding': 'gzip' }],
      ['/api/test/cached/large', { 'accept-encoding': 'identity' }],
      ['/api/test/cached/large', { 'accept-encoding': 'gzip', 'x-no-compression': '1' }],
    ] as const) {
      const r = await raw(`${app.base}${path}`, headers);
      const plain = await raw(`${app.base}${path.replace('cached', 'plain')}`, headers);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(r.body.toString()).toBe(plain.body.toString());
    }
  });
});
