export { createCache } from './cache.js';
export type {
  Cache,
  CacheStats,
  CacheCounters,
  SetOptions,
  WrapOptions,
  WrapFactory,
  FactoryContext,
  CacheLogger,
  CacheSerializer,
  CacheOptions,
  CacheMode,
  RedisClientLike,
  IoRedisClientLike,
  MetricsRegistryLike,
  NodeRedisClientLike,
  BreakerState,
  CacheEvents,
  CacheEventName,
  CacheErrorLike,
} from './types.js';
export { CacheTTL, type CacheTTLName, type Duration } from './ttl.js';
export {
  defineKeys,
  type DefineKeysOptions,
  type KeyFactories,
  type KeyArgs,
  type KeyFactory,
  type KeyParams,
  type KeyPart,
} from './keys.js';
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
