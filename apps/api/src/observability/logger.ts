import { pino, type Logger, type LoggerOptions } from 'pino';

// Anything that can carry a credential. pino's redact is path based, so request/response shapes (errors log the
// request they failed on) and our own log fields are listed.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-internal-token"]',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.clientSecret',
  '*.apiKey',
  '*.connectionString',
  '*.databaseUrl',
];

/** Options of `createLogger`. */
export interface LoggerSetup {
  level: LoggerOptions['level'];
  /** Human-readable output (pino-pretty) instead of JSON lines; never in production. @default false */
  pretty?: boolean;
  /** Where JSON lines go. @default stdout */
  destination?: NodeJS.WritableStream;
}

/** The process logger: JSON lines with secrets redacted. */
export function createLogger(setup: LoggerSetup): Logger {
  const options: LoggerOptions = {
    level: setup.level,
    base: { service: 'api' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (setup.pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } },
    });
  }
  return setup.destination ? pino(options, setup.destination as pino.DestinationStream) : pino(options);
}

/** Strips credentials from a database URL for logging: keeps scheme, host, port and database. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
