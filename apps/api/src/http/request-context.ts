import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';

// A client-supplied id is echoed only when it looks like an id, so it can neither inject log lines nor grow unbounded.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of a request as set by the request-logging middleware. */
export function requestIdOf(req: IncomingMessage): string {
  return typeof (req as { id?: unknown }).id === 'string' ? ((req as { id: string }).id) : 'unknown';
}

/** Keeps only the path: query strings carry OAuth codes, states and tokens. */
function pathOnly(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[REDACTED]`;
}

/** pino-http with a request id taken from X-Request-Id (when sane) or generated, and echoed in the response. */
export function requestLogging(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId(req: IncomingMessage, res: ServerResponse) {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel(_req, res, error) {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    serializers: {
      req(req: { id: string; method: string; url: string; headers: Record<string, unknown>; remoteAddress?: string }) {
        return {
          id: req.id,
          method: req.method,
          url: pathOnly(req.url),
          userAgent: req.headers['user-agent'],
          remoteAddress: req.remoteAddress,
        };
      },
      res(res: { statusCode: number }) {
        return { statusCode: res.statusCode };
      },
    },
    wrapSerializers: false,
  });
}
