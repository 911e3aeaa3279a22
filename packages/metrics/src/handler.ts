import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetricsOptionsError } from './errors.js';
import type { MetricsHandlerOptions, ScrapeSource } from './types.js';

function sameSecret(given: string, expected: Buffer): boolean {
  const a = Buffer.from(given);
  // timingSafeEqual needs equal lengths; comparing against itself keeps the timing flat.
  return a.length === expected.length ? timingSafeEqual(a, expected) : (timingSafeEqual(expected, expected), false);
}

/**
 * A plain Node `(req, res)` handler for `/metrics` (Express accepts it as is): negotiates the
 * format from `Accept`, optionally requires a bearer token, and answers 500 without details when
 * collecting fails so no internal message leaks.
 */
export function metricsHandler(
  source: ScrapeSource,
  options: MetricsHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  if (!source || typeof source.scrape !== 'function')
    throw new MetricsOptionsError('metricsHandler needs a Metrics handle or a cluster aggregator');
  if (
    options.bearerToken !== undefined &&
    (typeof options.bearerToken !== 'string' || options.bearerToken.length < 16)
  ) {
    throw new MetricsOptionsError('options.bearerToken must be a string of at least 16 characters');
  }
  const expected = options.bearerToken === undefined ? undefined : Buffer.from(`Bearer ${options.bearerToken}`);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n');
      return;
    }
    if (expected && !sameSecret(req.headers.authorization ?? '', expected)) {
      res
        .writeHead(401, {
          'www-authenticate': 'Bearer realm="metrics"',
          'content-type': 'text/plain; charset=utf-8',
          'cache-control': 'no-store',
        })
        .end('unauthorized\n');
      return;
    }
    source.scrape(req.headers.accept).then(
      (scrape) => {
        res.writeHead(200, { 'content-type': scrape.contentType, 'cache-control': 'no-store', vary: 'Accept' });
        res.end(req.method === 'HEAD' ? undefined : scrape.body);
      },
      (error: unknown) => {
        if (options.onError) options.onError(error);
        else {
          const e = error as { name?: unknown; code?: unknown } | null;
          console.error(
            `@org/metrics: collecting metrics failed (${String(e?.name ?? 'Error')}${typeof e?.code === 'string' ? ` ${e.code}` : ''}); pass onError to see the error`,
          );
        }
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics collection failed\n');
      },
    );
  };
}
