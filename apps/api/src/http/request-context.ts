import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

// A client-supplied id is echoed only when it looks like an id, so it can neither inject log lines nor grow unbounded.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of a request as set by the request-logging middleware. */
export function requestIdOf(req: IncomingMessage): string {
  const id = (req as unknown as { id?: unknown }).id;
  return typeof id === 'string' ? id : 'unknown';
}

/** Keeps only the path: query strings carry OAuth codes, states and tokens. */
export function pathOnly(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[REDACTED]`;
}

/** One access-log line: what operators need, and nothing a client sent besides the method and the path. */
export interface AccessLogLine {
  req: { id: string; method: string; url: string };
  res: { statusCode: number };
  /** Milliseconds from the request's arrival to the end of the response (or to the abort). */
  responseTime: number;
}

/**
 * Request id and access log: the id comes from X-Request-Id (when it looks like an id) or is generated, is echoed in
 * the response and read back with `requestIdOf`; one line per request is logged when the response has been sent (or
 * the client went away): method, path (query replaced by `[REDACTED]`), status, duration, request id. No header,
 * cookie, body or address is logged, so no credential can reach the log through it. Levels: info, warn for 4xx,
 * error for 5xx and aborted requests.
 */
export function requestLogging(logger: Logger): (req: Request, res: Response, next: NextFunction) => void {
  // The line is built here from fixed fields only, so the logger's path-based redaction (which copies every object it
  // walks) has nothing to find in it: the access lines skip it.
  const access = logger.child({}, { redact: { paths: [] } });
  return (req, res, next) => {
    const started = performance.now();
    // Read now: mounted routers rewrite req.url while the request goes through them.
    const url = req.url;
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
    (req as { id?: string }).id = id;
    res.setHeader('X-Request-Id', id);
    // A response emits 'close' once, after 'finish' when it was sent, alone when the client went away first.
    res.once('close', () => logAccess(access, req.method, url, res, id, started));
    next();
  };
}

function logAccess(
  logger: Logger,
  method: string,
  url: string,
  res: ServerResponse,
  id: string,
  started: number,
): void {
  const statusCode = res.statusCode;
  const aborted = !res.writableFinished;
  const level = aborted || statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const line: AccessLogLine = {
    req: { id, method, url: pathOnly(url) },
    res: { statusCode },
    responseTime: Math.round(performance.now() - started),
  };
  logger[level](line, aborted ? 'request aborted' : 'request completed');
}
