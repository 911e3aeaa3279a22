import { describe, expect, it } from 'vitest';
import { ConfigError, REQUIRED_IN_PRODUCTION, loadConfig } from './config.js';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://u:p@db:5432/api',
  FRONTEND_URL: 'https://app.example.com',
  GHL_CLIENT_ID: 'id',
  GHL_CLIENT_SECRET: 'ghl-secret',
  ENCRYPTION_KEY: 'ab'.repeat(32),
  SESSION_SECRET: 's'.repeat(40),
  STRIPE_SECRET_KEY: 'sk_live_x',
  STRIPE_WEBHOOK_SECRET: 'whsec_x',
  INTERNAL_TOKEN: 't'.repeat(30),
};

describe('loadConfig', () => {
  it('starts with no environment at all outside production, on embedded defaults', () => {
    const config = loadConfig({});
    expect(config.nodeEnv).toBe('development');
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.enableApiDocs).toBe(true);
    expect(config.trustProxyHops).toBe(0);
    expect(config.rateLimitTimeoutMs).toBe(30);
    expect(config.encryption.key).toHaveLength(32);
    expect(config.defaulted).toEqual(expect.arrayContaining(['ENCRYPTION_KEY', 'SESSION_SECRET', 'INTERNAL_TOKEN']));
  });

  it('RATE_LIMIT_TIMEOUT_MS sets how long a rate-limit decision waits for Redis (1-60000 ms)', () => {
    expect(loadConfig({ RATE_LIMIT_TIMEOUT_MS: '1000' }).rateLimitTimeoutMs).toBe(1000);
    expect(() => loadConfig({ RATE_LIMIT_TIMEOUT_MS: '0' })).toThrow(/RATE_LIMIT_TIMEOUT_MS/);
  });

  it('SESSION_SWEEP_INTERVAL_MS (default 1 h) and JOB_EVENTS_MAX_LIFETIME_MS (default 10 min) are validated intervals', () => {
    expect(loadConfig({})).toMatchObject({ sessionSweepIntervalMs: 3_600_000, jobEventsMaxLifetimeMs: 600_000 });
    expect(loadConfig({ SESSION_SWEEP_INTERVAL_MS: '500', JOB_EVENTS_MAX_LIFETIME_MS: '2000' })).toMatchObject({
      sessionSweepIntervalMs: 500,
      jobEventsMaxLifetimeMs: 2_000,
    });
    for (const [name, value] of [
      ['SESSION_SWEEP_INTERVAL_MS', '0'],
      ['SESSION_SWEEP_INTERVAL_MS', 'hourly'],
      ['JOB_EVENTS_MAX_LIFETIME_MS', '10'],
      ['JOB_EVENTS_MAX_LIFETIME_MS', '1.5'],
    ] as [string, string][]) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(new RegExp(name));
    }
  });

  it('names every missing variable in one message in production', () => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'production', PORT: 'eighty' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.code).toBe('CONFIG_INVALID');
    expect(configError.missing).toEqual([...REQUIRED_IN_PRODUCTION]);
    for (const name of REQUIRED_IN_PRODUCTION) expect(configError.message).toContain(name);
    expect(configError.message).toContain('PORT');
  });

  it('accepts a complete production environment and keeps docs off by default', () => {
    const config = loadConfig(production);
    expect(config.isProduction).toBe(true);
    expect(config.host).toBe('0.0.0.0');
    expect(config.enableApiDocs).toBe(false);
    expect(config.defaulted).toEqual([]);
  });

  it('treats empty strings as unset', () => {
    expect(() => loadConfig({ ...production, SESSION_SECRET: '  ' })).toThrow(/SESSION_SECRET/);
  });

  it.each([
    ['TRUST_PROXY_HOPS', 'true'],
    ['ENCRYPTION_KEY', 'too-short'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://x'],
    ['ENABLE_METRICS', 'yes'],
    ['PORT', '70000'],
    ['WORKER_PORT', '-1'],
    ['AUDIT_CRON', 'every night'],
    ['AUDIT_CRON', '61 * * * *'],
    ['AUDIT_TIMEZONE', 'Mars/Olympus'],
  ])('rejects %s=%s with a message naming it, never its value', (name, value) => {
    expect(() => loadConfig({ ...production, [name]: value })).toThrow(new RegExp(name));
    try {
      loadConfig({ ...production, [name]: value });
    } catch (error) {
      expect((error as Error).message).not.toContain(production.GHL_CLIENT_SECRET);
    }
  });

  it('scheduled audits are off unless AUDIT_CRON is set; the worker port defaults to 9464', () => {
    expect(loadConfig({}).audit).toBeUndefined();
    expect(loadConfig({}).workerPort).toBe(9464);
    expect(loadConfig({ AUDIT_CRON: '0 3 * * *' }).audit).toEqual({ cron: '0 3 * * *', timeZone: 'UTC' });
    expect(loadConfig({ AUDIT_CRON: '*/30 * * * * *', AUDIT_TIMEZONE: 'Europe/Berlin' }).audit).toEqual({
      cron: '*/30 * * * * *',
      timeZone: 'Europe/Berlin',
    });
  });

  it('decodes base64 and hex encryption keys', () => {
    expect(loadConfig({ ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).encryption.key).toEqual(
      Buffer.alloc(32, 7),
    );
    expect(loadConfig({ ENCRYPTION_KEY: '07'.repeat(32) }).encryption.key).toEqual(Buffer.alloc(32, 7));
  });
});
