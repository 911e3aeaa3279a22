import type { Redis } from 'ioredis';
import { CacheRedisError } from './errors.js';
import { safeLog } from './logger.js';
import type { CacheLogger } from './types.js';
import type { Client } from './redis-tier.js';

/** A Redis server version, as `INFO server` reports it (`redis_version`, also reported by Valkey). */
export interface RedisVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** The Redis version each feature needs; the README's table mirrors it. */
export const REDIS_REQUIREMENTS = {
  /** Everything else the cache sends: SET PX NX, GET, DEL, EVAL, PUBLISH/SUBSCRIBE, SCAN, SADD/SMEMBERS, and UNLINK for `clear`. */
  minimum: { major: 4, minor: 0 },
  /** `PEXPIRE key ms NX` / `GT` keep a tag set alive as long as its longest-lived member; older servers run a Lua script instead. */
  tagExpiryFlags: { major: 7, minor: 0 },
} as const;

/** The `redis_version` of an `INFO` reply, or undefined when it has none. */
export function parseRedisVersion(info: string): RedisVersion | undefined {
  const match = /^redis_version:(\d+)\.(\d+)(?:\.(\d+))?\s*$/m.exec(info);
  if (!match) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    text: `${match[1]}.${match[2]}${match[3] === undefined ? '' : `.${match[3]}`}`,
  };
}

export function atLeast(version: RedisVersion, need: { major: number; minor: number }): boolean {
  return version.major > need.major || (version.major === need.major && version.minor >= need.minor);
}

/** Commands that make a tag set live as long as its longest-lived member (`px` ms from now). */
export type TagExpiry = (client: Client, tagKey: string, px: number) => Promise<unknown>[];

/** Redis 7: `NX` sets a TTL on a new set, `GT` only ever extends it. */
export const flagTagExpiry: TagExpiry = (c, tagKey, px) => [c.pexpire(tagKey, px, 'NX'), c.pexpire(tagKey, px, 'GT')];

// The same rule in one atomic script: no TTL yet (-1), or a shorter one, becomes px. A missing key (-2) stays missing.
const EXTEND_SCRIPT =
  "local t = redis.call('pttl', KEYS[1]) if t == -1 or t < tonumber(ARGV[1]) then return redis.call('pexpire', KEYS[1], ARGV[1]) end return 0";

/** Any Redis with scripting: one EVAL per tag. */
export const scriptTagExpiry: TagExpiry = (c, tagKey, px) => [c.eval(EXTEND_SCRIPT, 1, tagKey, px) as Promise<unknown>];

/**
 * What the connected server supports, read from `INFO server` every time Redis becomes usable (a failover may land
 * on another version). Until the version is known, and when it cannot be read, tags use the script, which works on
 * every version.
 */
export class RedisFeatures {
  tagExpiry: TagExpiry = scriptTagExpiry;
  version: RedisVersion | undefined;
  private reported: string | undefined;

  constructor(
    private readonly cache: string,
    private readonly logger: CacheLogger | undefined,
    private readonly reportError: (error: CacheRedisError) => void,
  ) {}

  /** Reads the server version through `run` (the tier's deadline and breaker) and picks the commands to use. */
  async detect(run: (command: (client: Client) => Promise<string>) => Promise<string>): Promise<void> {
    let info: string;
    try {
      info = await run((c) => (c as Redis).info('server'));
    } catch {
      if (this.logger)
        safeLog(
          this.logger,
          'debug',
          { cache: this.cache },
          '@org/cache: INFO server failed; tag TTLs use the Lua script that works on every Redis version',
        );
      return;
    }
    this.apply(parseRedisVersion(info));
  }

  apply(version: RedisVersion | undefined): void {
    this.version = version;
    this.tagExpiry =
      version !== undefined && atLeast(version, REDIS_REQUIREMENTS.tagExpiryFlags) ? flagTagExpiry : scriptTagExpiry;
    const text = version?.text ?? 'unknown';
    if (this.reported === text) return;
    this.reported = text;
    if (version !== undefined && !atLeast(version, REDIS_REQUIREMENTS.minimum)) {
      const error = new CacheRedisError(
        `Redis ${text} is older than 4.0, which @org/cache needs (clear() uses UNLINK); upgrade Redis`,
        'CACHE_REDIS_VERSION',
      );
      this.reportError(error);
      if (this.logger)
        safeLog(this.logger, 'error', { cache: this.cache, redisVersion: text }, `@org/cache: ${error.message}`);
    } else if (this.tagExpiry === scriptTagExpiry && version !== undefined) {
      if (this.logger)
        safeLog(
          this.logger,
          'warn',
          { cache: this.cache, redisVersion: text },
          '@org/cache: Redis is older than 7.0; tag TTLs use a Lua script instead of PEXPIRE NX/GT',
        );
    } else if (this.logger) {
      safeLog(this.logger, 'debug', { cache: this.cache, redisVersion: text }, '@org/cache: Redis version detected');
    }
  }
}
