export { createCache, type Cache, type CacheStats, type CacheCounters, type SetOptions, type WrapOptions } from './cache.js';
export { CacheTTL, type CacheTTLName } from './ttl.js';
export { defineKeys, type DefineKeysOptions, type KeyFactories, type KeyArgs, type KeyFactory, type KeyParams, type KeyPart } from './keys.js';
export type { CacheOptions, CacheMode, RedisClientLike, IoRedisClientLike, MetricsRegistryLike } from './options.js';
export type { NodeRedisClientLike } from './client-adapter.js';
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
