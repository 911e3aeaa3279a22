export { createCache, type Cache, type CacheStats, type CacheCounters, type SetOptions, type WrapOptions, type WrapFactory } from './cache.js';
export { CacheTTL, type CacheTTLName, type Duration } from './ttl.js';
export type { FactoryContext } from './factory-context.js';
export type { CacheLogger } from './logger.js';
export type { CacheSerializer } from './custom-serializer.js';
export { defineKeys, type DefineKeysOptions, type KeyFactories, type KeyArgs, type KeyFactory, type KeyParams, type KeyPart } from './keys.js';
export type { CacheOptions, CacheMode, RedisClientLike, IoRedisClientLike, MetricsRegistryLike } from './options.js';
export type { NodeRedisClientLike } from './client-adapter.js';
export type { BreakerState } from './redis-tier.js';
export type { CacheEvents, CacheEventName } from './emitter.js';
export type { CacheErrorLike } from './types.js';
export {
  CacheError,
  CacheOptionsError,
  CacheKeyError,
  CacheSerializationError,
  CacheFactoryTimeoutError,
  CacheClosedError,
  CachePeerMissingError,
  CacheRedisError,
} from './errors.js';
