import { z } from 'zod';
import { parseWebhookPublicKey } from '../ghl/webhooks.js';
import cronParser from 'cron-parser';
import { DEVELOPMENT_SECRET_NAMES, randomDevelopmentSecrets, type DevelopmentSecrets } from './development-secrets.js';

/** Start-up configuration is invalid; `message` names every offending variable at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(
    message: string,
    /** Variables that are required in this environment and absent. */
    readonly missing: readonly string[],
    /** Variables that are present but malformed, with the reason. */
    readonly invalid: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = (protocols: RegExp) => z.preprocess(emptyToUndefined, z.url({ protocol: protocols }).optional());
const int = (min: number, max: number, fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));
const bool = (fallback: boolean | undefined) =>
  z
    .preprocess(
      emptyToUndefined,
      z
        .enum(['true', 'false', '1', '0'])
        .transform((v) => v === 'true' || v === '1')
        .optional(),
    )
    .transform((v) => v ?? fallback);

/** Variables without which production must not start (outside production, embedded defaults apply). */
export const REQUIRED_IN_PRODUCTION = [
  'DATABASE_URL',
  'FRONTEND_URL',
  'GHL_CLIENT_ID',
  'GHL_CLIENT_SECRET',
  'ENCRYPTION_KEY',
  'SESSION_SECRET',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'INTERNAL_TOKEN',
] as const;

const envSchema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'test', 'production']).default('development')),
  PORT: int(0, 65_535, 3000),
  HOST: optionalString,
  DATABASE_URL: optionalUrl(/^postgres(ql)?$/),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  REDIS_URL: optionalUrl(/^rediss?$/),
  // Background analyses (src/jobs): jobs run at once per worker process; how soon a crashed worker's job is taken over.
  QUEUE_CONCURRENCY: int(1, 64, 2),
  // The `worker` role's own port for /live, /ready and /metrics (not PORT, so a worker runs beside the API locally).
  WORKER_PORT: int(0, 65_535, 9464),
  QUEUE_STALLED_INTERVAL_MS: int(1_000, 600_000, 30_000),
  // Analyses run on worker threads, off the HTTP event loop; one that runs longer than the budget fails (422).
  ANALYSIS_THREADS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(64).optional()),
  ANALYSIS_TIME_BUDGET_MS: int(1, 600_000, 2_000),
  QUEUE_PREFIX: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[\w:.-]{1,64}$/)
      .default('bull'),
  ),
  // Scheduled audits: every connected location's workflows whose version changed are analysed on this cron (5 or 6
  // fields, e.g. "0 3 * * *" nightly at 03:00); unset: no scheduled audits.
  AUDIT_CRON: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => isCronPattern(v), 'expected a cron pattern of 5 or 6 fields, e.g. "0 3 * * *"')
      .optional(),
  ),
  AUDIT_TIMEZONE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => isTimeZone(v), 'expected an IANA time zone, e.g. "Europe/Berlin"')
      .default('UTC'),
  ),
  FRONTEND_URL: optionalUrl(/^https?$/),
  GHL_CLIENT_ID: optionalString,
  GHL_CLIENT_SECRET: optionalString,
  GHL_API_BASE_URL: z.preprocess(
    emptyToUndefined,
    z.url({ protocol: /^https?$/ }).default('https://services.leadconnectorhq.com'),
  ),
  // GHL install flow, webhooks and the (unofficial) builder backend.
  GHL_AUTHORIZE_URL: z.preprocess(
    emptyToUndefined,
    z.url({ protocol: /^https?$/ }).default('https://marketplace.gohighlevel.com/v2/oauth/chooselocation'),
  ),
  GHL_REDIRECT_URI: optionalUrl(/^https?$/),
  GHL_WEBHOOK_PUBLIC_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => isEd25519PublicKey(v), 'expected an Ed25519 public key (PEM or base64 SPKI)')
      .optional(),
  ),
  GHL_BUILDER_BASE_URL: optionalUrl(/^https?$/),
  ENCRYPTION_PREVIOUS_KEYS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}:[^,]+(,[A-Za-z0-9_-]{1,32}:[^,]+)*$/, 'expected id:key pairs separated by commas')
      .refine(
        (v) => v.split(',').every((p) => decodeKey(p.slice(p.indexOf(':') + 1)) !== undefined),
        'every key must be 32 bytes (hex or base64)',
      )
      .optional(),
  ),
  ENCRYPTION_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => decodeKey(v) !== undefined, 'expected 32 bytes as 64 hex characters or base64')
      .optional(),
  ),
  ENCRYPTION_KEY_ID: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/)
      .default('1'),
  ),
  SESSION_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'expected at least 32 characters').optional()),
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_API_BASE_URL: z.preprocess(
    emptyToUndefined,
    z.url({ protocol: /^https?$/ }).default('https://api.stripe.com'),
  ),
  STRIPE_WEBHOOK_SECRET_PREVIOUS: optionalString,
  STRIPE_PRICE_PRO: optionalString,
  STRIPE_PRICE_ENTERPRISE: optionalString,
  STRIPE_PAST_DUE_GRACE_DAYS: int(0, 60, 7),
  RETENTION_PURGE_INTERVAL_MS: int(0, 86_400_000, 3_600_000),
  SESSION_SWEEP_INTERVAL_MS: int(100, 86_400_000, 3_600_000),
  JOB_EVENTS_MAX_LIFETIME_MS: int(1_000, 86_400_000, 600_000),
  RATE_LIMIT_TIMEOUT_MS: int(1, 60_000, 30),
  SENTRY_DSN: optionalUrl(/^https?$/),
  ENABLE_API_DOCS: bool(undefined),
  ENABLE_METRICS: bool(true),
  METRICS_PUBLIC: bool(false),
  INTERNAL_TOKEN: z.preprocess(emptyToUndefined, z.string().min(24, 'expected at least 24 characters').optional()),
  TRUST_PROXY_HOPS: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ error: 'expected a hop count (0-10); "true" is refused because it lets clients forge their IP' })
      .int()
      .min(0)
      .max(10)
      .default(0),
  ),
  DRAIN_TIMEOUT_MS: int(0, 600_000, 10_000),
  SHUTDOWN_DELAY_MS: int(0, 600_000, 0),
  HEADERS_TIMEOUT_MS: int(1_000, 600_000, 10_000),
  REQUEST_TIMEOUT_MS: int(1_000, 3_600_000, 30_000),
  DB_POOL_MAX: int(1, 500, 10),
  DB_MAX_WAITING: int(0, 10_000, 50),
  DB_CONNECTION_TIMEOUT_MS: int(50, 60_000, 2_000),
  DB_STATEMENT_TIMEOUT_MS: int(10, 3_600_000, 5_000),
  DEMO_MODE: bool(false),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

function isCronPattern(value: string): boolean {
  const fields = value.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) return false;
  try {
    cronParser.parseExpression(value);
    return true;
  } catch {
    return false;
  }
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function isEd25519PublicKey(value: string): boolean {
  try {
    parseWebhookPublicKey(value);
    return true;
  } catch {
    return false;
  }
}

/** 32-byte AES key from 64 hex characters or base64; undefined when malformed. */
export function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-f]{64}$/i.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

// Development-only stand-ins so that `pnpm start` works with no environment at all. Only the ones that are not secret
// are constants; the secrets are generated per data folder (src/config/development-secrets.ts).
const DEVELOPMENT_CONSTANTS = {
  FRONTEND_URL: 'http://localhost:5173',
  GHL_CLIENT_ID: 'development-ghl-client-id',
  STRIPE_SECRET_KEY: 'sk_test_development',
} as const;

/** Hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** A credential that only a real deployment has: a live Stripe key, or a database on another machine. */
function liveCredentials(env: Record<string, string | undefined>): string[] {
  const found: string[] = [];
  if (/^(?:sk|rk)_live_/.test(env.STRIPE_SECRET_KEY?.trim() ?? '')) found.push('STRIPE_SECRET_KEY (a live key)');
  const db = emptyToUndefined(env.DATABASE_URL);
  if (typeof db === 'string') {
    try {
      const host = new URL(db).hostname;
      // No host: a Unix socket on this machine.
      if (host !== '' && !isLoopbackHost(host)) found.push('DATABASE_URL (a database on another host)');
    } catch {
      // Malformed: reported by the schema.
    }
  }
  return found;
}

/** Upstreams that receive credentials (client secret, tokens, the Stripe key): https only in production. */
const UPSTREAM_URLS = ['GHL_API_BASE_URL', 'GHL_AUTHORIZE_URL', 'GHL_BUILDER_BASE_URL', 'STRIPE_API_BASE_URL'] as const;

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * The generated secrets of a development or test server on loopback, for its data folder.
   * @default fresh random values on every call (nothing persists)
   */
  developmentSecrets?: (dataDir: string) => DevelopmentSecrets;
}

function previousKeys(value: string | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const pair of value?.split(',') ?? [])
    out[pair.slice(0, pair.indexOf(':'))] = decodeKey(pair.slice(pair.indexOf(':') + 1))!;
  return out;
}

export type NodeEnv = 'development' | 'test' | 'production';

/** The validated configuration; every field has its final value. */
export interface Config {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  port: number;
  host: string;
  /** Undefined means: run the embedded PostgreSQL (PGlite) in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Undefined means memory cache and memory rate limits (once those libraries are wired). */
  redisUrl: string | undefined;
  /** Background analysis queue: concurrency per worker process, stalled-job check interval (and job lock) in ms. */
  queue: { concurrency: number; stalledIntervalMs: number; prefix: string };
  /** Worker threads that run analyses (undefined: cores - 1, 1 to 4) and the longest one analysis may run. */
  analysis: { threads: number | undefined; timeBudgetMs: number };
  /** Port of the `worker` role's /live, /ready and /metrics (0: any free port, logged). */
  workerPort: number;
  /** Scheduled audits per connected location (cron, time zone); undefined: off. */
  audit: { cron: string; timeZone: string } | undefined;
  frontendUrl: string;
  ghl: {
    clientId: string;
    clientSecret: string;
    apiBaseUrl: string;
    authorizeUrl: string;
    /** Undefined: `http://<host>:<port>/auth/ghl/callback` of this server. */
    redirectUri: string | undefined;
    webhookPublicKey: string | undefined;
    builderBaseUrl: string | undefined;
  };
  /** DEMO_MODE=true (development or test, loopback, no GHL credentials): the fake GHL and a demo location. */
  demoMode: boolean;
  stripe: {
    secretKey: string;
    apiBaseUrl: string;
    /** Every accepted signing secret: STRIPE_WEBHOOK_SECRET (comma-separated allowed), then STRIPE_WEBHOOK_SECRET_PREVIOUS. */
    webhookSecrets: string[];
    prices: { pro: string | undefined; enterprise: string | undefined };
    pastDueGraceDays: number;
    /** 0 disables the retention purge job in this instance. */
    retentionPurgeIntervalMs: number;
  };
  encryption: { key: Buffer; keyId: string; previousKeys: Record<string, Buffer> };
  sessionSecret: string;
  /** How often sessions past their expiry or idle timeout are deleted from PostgreSQL (ms). */
  sessionSweepIntervalMs: number;
  /** A job progress stream (SSE) ends with an `expired` event after this long (ms); the client reconnects. */
  jobEventsMaxLifetimeMs: number;
  internalToken: string;
  sentryDsn: string | undefined;
  enableApiDocs: boolean;
  enableMetrics: boolean;
  metricsPublic: boolean;
  trustProxyHops: number;
  /** How long a rate-limit decision waits for Redis before Redis counts as down (general: memory fallback; analysis: 503). */
  rateLimitTimeoutMs: number;
  drainTimeoutMs: number;
  shutdownDelayMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  db: { poolMax: number; maxWaiting: number; connectionTimeoutMs: number; statementTimeoutMs: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Which variables fell back to development defaults or generated secrets (for the start-up log, never values). */
  defaulted: string[];
}

/**
 * Validates the environment. Pure: pass `process.env` (after loading `.env`). Throws one `ConfigError` naming every
 * missing or malformed variable.
 */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const parsed = envSchema.safeParse(env);
  const invalid = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')} (${issue.message})`);
  const nodeEnv: NodeEnv =
    env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const isSet = (name: string) => emptyToUndefined(env[name]) !== undefined;
  const host =
    (emptyToUndefined(env.HOST) as string | undefined) ?? (nodeEnv === 'production' ? '0.0.0.0' : '127.0.0.1');
  const live = liveCredentials(env);
  // Built-in defaults fail closed: only a development or test server that only this machine can reach, and that
  // holds no credential of a real deployment, may run on them.
  const defaultsAllowed = nodeEnv !== 'production' && isLoopbackHost(host) && live.length === 0;
  const required: readonly string[] = defaultsAllowed
    ? []
    : nodeEnv === 'production'
      ? REQUIRED_IN_PRODUCTION
      : [...DEVELOPMENT_SECRET_NAMES, 'FRONTEND_URL'];
  const missing = required.filter((name) => !isSet(name));
  if (nodeEnv === 'production') {
    for (const name of UPSTREAM_URLS) {
      const value = emptyToUndefined(env[name]);
      if (typeof value === 'string' && !value.startsWith('https://'))
        invalid.push(`${name} (must be an https URL when NODE_ENV=production)`);
    }
  }
  const demoRequested = parsed.success ? parsed.data.DEMO_MODE : false;
  if (demoRequested) {
    if (nodeEnv === 'production') invalid.push('DEMO_MODE (refused when NODE_ENV=production)');
    else if (!isLoopbackHost(host)) invalid.push(`DEMO_MODE (needs a loopback HOST, got ${host})`);
    else if (isSet('GHL_CLIENT_ID'))
      invalid.push('DEMO_MODE (refused with GHL_CLIENT_ID set: demo mode runs the fake GHL)');
  }
  if (!parsed.success || missing.length > 0 || invalid.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) {
      const why =
        nodeEnv === 'production'
          ? 'required when NODE_ENV=production'
          : `required unless the server listens on loopback and holds no live credential${live.length > 0 ? `; found ${live.join(', ')}` : `; HOST is ${host}`}`;
      parts.push(`missing (${why}): ${missing.join(', ')}`);
    }
    if (invalid.length > 0) parts.push(`invalid: ${invalid.join('; ')}`);
    throw new ConfigError(`Invalid configuration: ${parts.join('. ')}. See apps/api/.env.example.`, missing, invalid);
  }
  const e = parsed.data!;
  const defaulted: string[] = [];
  let secrets: DevelopmentSecrets | undefined;
  const pick = (name: keyof typeof DEVELOPMENT_CONSTANTS | keyof DevelopmentSecrets): string => {
    const value = e[name];
    if (value !== undefined) return value;
    defaulted.push(name);
    if (name in DEVELOPMENT_CONSTANTS) return DEVELOPMENT_CONSTANTS[name as keyof typeof DEVELOPMENT_CONSTANTS];
    secrets ??= (options.developmentSecrets ?? randomDevelopmentSecrets)(e.DATA_DIR);
    return secrets[name as keyof DevelopmentSecrets];
  };
  const isProduction = e.NODE_ENV === 'production';
  return {
    nodeEnv: e.NODE_ENV,
    isProduction,
    port: e.PORT,
    host,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    queue: { concurrency: e.QUEUE_CONCURRENCY, stalledIntervalMs: e.QUEUE_STALLED_INTERVAL_MS, prefix: e.QUEUE_PREFIX },
    workerPort: e.WORKER_PORT,
    analysis: { threads: e.ANALYSIS_THREADS, timeBudgetMs: e.ANALYSIS_TIME_BUDGET_MS },
    audit: e.AUDIT_CRON ? { cron: e.AUDIT_CRON, timeZone: e.AUDIT_TIMEZONE } : undefined,
    frontendUrl: pick('FRONTEND_URL'),
    ghl: {
      clientId: pick('GHL_CLIENT_ID'),
      clientSecret: pick('GHL_CLIENT_SECRET'),
      apiBaseUrl: e.GHL_API_BASE_URL,
      authorizeUrl: e.GHL_AUTHORIZE_URL,
      redirectUri: e.GHL_REDIRECT_URI,
      webhookPublicKey: e.GHL_WEBHOOK_PUBLIC_KEY,
      builderBaseUrl: e.GHL_BUILDER_BASE_URL,
    },
    demoMode: e.DEMO_MODE === true,
    stripe: (() => {
      const webhookSecret = pick('STRIPE_WEBHOOK_SECRET');
      const webhookSecrets = [...webhookSecret.split(','), ...(e.STRIPE_WEBHOOK_SECRET_PREVIOUS ?? '').split(',')]
        .map((v) => v.trim())
        .filter(Boolean);
      return {
        secretKey: pick('STRIPE_SECRET_KEY'),
        apiBaseUrl: e.STRIPE_API_BASE_URL,
        webhookSecrets,
        prices: { pro: e.STRIPE_PRICE_PRO, enterprise: e.STRIPE_PRICE_ENTERPRISE },
        pastDueGraceDays: e.STRIPE_PAST_DUE_GRACE_DAYS,
        retentionPurgeIntervalMs: e.RETENTION_PURGE_INTERVAL_MS,
      };
    })(),
    encryption: {
      key: decodeKey(pick('ENCRYPTION_KEY'))!,
      keyId: e.ENCRYPTION_KEY_ID,
      previousKeys: previousKeys(e.ENCRYPTION_PREVIOUS_KEYS),
    },
    sessionSecret: pick('SESSION_SECRET'),
    sessionSweepIntervalMs: e.SESSION_SWEEP_INTERVAL_MS,
    jobEventsMaxLifetimeMs: e.JOB_EVENTS_MAX_LIFETIME_MS,
    internalToken: pick('INTERNAL_TOKEN'),
    sentryDsn: e.SENTRY_DSN,
    enableApiDocs: e.ENABLE_API_DOCS ?? !isProduction,
    enableMetrics: e.ENABLE_METRICS ?? true,
    metricsPublic: e.METRICS_PUBLIC ?? false,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    rateLimitTimeoutMs: e.RATE_LIMIT_TIMEOUT_MS,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    db: {
      poolMax: e.DB_POOL_MAX,
      maxWaiting: e.DB_MAX_WAITING,
      connectionTimeoutMs: e.DB_CONNECTION_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    },
    logLevel: e.LOG_LEVEL,
    defaulted,
  };
}
