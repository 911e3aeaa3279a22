export { defineTiers, defaultTiers } from './tiers.js';
export { createLimiter } from './limiter.js';
export { createResponseRefund, requestWasSuccessful } from './response-refund.js';
export { tieredRateLimit, rateLimitDecision } from './middleware.js';
export { rateLimitHeaders, mostRestrictive } from './headers.js';
export { rejectionBody } from './responses.js';
export {
  rateLimitBodySchemas,
  rateLimitExceededFields,
  rateLimitHeaderDefinitions,
  rateLimitUnavailableFields,
} from './response-schema.js';
export { ipKey } from './client-ip.js';
export {
  RateLimitError,
  InvalidOptionsError,
  UnsafeTrustProxyError,
  UnknownTierError,
  StoreUnavailableError,
} from './errors.js';
export type {
  Algorithm,
  FailureMode,
  PolicyDefinition,
  TierDefinition,
  Policy,
  Tier,
  TierTable,
  DefaultTierMetadata,
  Duration,
  LimiterOptions,
  Limiter,
  CheckInput,
  Decision,
  PolicyState,
  Outcome,
  DecisionSource,
  StateInput,
  RefundInput,
  LimitState,
  ResponseRefund,
  ResponseRefundOptions,
  ResponseOutcome,
  Logger,
  StoreStateEvent,
  RedisClient,
  NodeRedisClientLike,
  RateLimitOptions,
  RateLimitMiddleware,
  HeaderOptions,
  ErrorFormat,
  RateLimitBody,
  RateLimitExceededBody,
  RateLimitProblemBody,
  RateLimitUnavailableBody,
  HeaderDefinition,
  JsonSchema,
  RateLimited,
} from './types.js';
