export { isCI, ServiceUnavailableError } from './availability.js';
export { freePort, waitFor } from './process.js';
export { sharedRedis, hasSharedRedis, sharedRedisUrl, type SharedRedis } from './shared-redis.js';
export { sharedPostgres, hasSharedPostgres, sharedPostgresUrl, type SharedPostgres } from './shared-postgres.js';
export { startRedis, canStartRedis, redisServerBin, redisCliBin, type PrivateRedis } from './private-redis.js';
export { startPostgres, canStartPostgres, type PrivatePostgres } from './private-postgres.js';
export { startRedisCluster, canStartRedisCluster, type PrivateRedisCluster } from './redis-cluster.js';
export { listen, type ListeningServer } from './http.js';
export { prometheusBinary, promtool, startPrometheus, type PrivatePrometheus, type PromSample } from './prometheus.js';
