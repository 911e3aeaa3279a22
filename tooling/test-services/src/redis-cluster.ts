import { Cluster, Redis } from 'ioredis';
import { unavailable } from './availability.js';
import { run, waitFor } from './process.js';
import { redisCliBin, redisServerBin, startRedis, type PrivateRedis } from './private-redis.js';

/** Three private Redis masters on loopback joined into one cluster (no replicas). */
export interface PrivateRedisCluster {
  readonly nodes: { host: '127.0.0.1'; port: number }[];
  readonly servers: PrivateRedis[];
  /** A new ioredis Cluster client on these nodes (the caller closes it). */
  client(): Cluster;
  /** Kills every node and removes their folders. */
  stop(): Promise<void>;
}

/** Whether a cluster can be created here (under CI a failure throws instead). */
export function canStartRedisCluster(): boolean {
  if (!redisServerBin() || !redisCliBin())
    return unavailable(
      'Redis Cluster',
      'redis-server and redis-cli (or REDIS_SERVER_BIN and REDIS_CLI_BIN) must be on PATH',
    );
  return true;
}

/** Starts three `cluster-enabled` servers and runs `redis-cli --cluster create` on them. */
export async function startRedisCluster(): Promise<PrivateRedisCluster> {
  const servers: PrivateRedis[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      servers.push(
        await startRedis({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${i}.conf`,
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    run(redisCliBin() ?? 'redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitFor(
      'cluster_state:ok on every node',
      async () => {
        for (const server of servers) {
          const client = new Redis({
            host: '127.0.0.1',
            port: server.port,
            maxRetriesPerRequest: 0,
            lazyConnect: true,
          });
          client.on('error', () => {});
          try {
            await client.connect();
            const info = await client.cluster('INFO');
            if (!String(info).includes('cluster_state:ok')) return false;
          } finally {
            client.disconnect();
          }
        }
        return true;
      },
      20_000,
      100,
    );
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  const nodes = servers.map((s) => ({ host: '127.0.0.1' as const, port: s.port }));
  return {
    nodes,
    servers,
    client: () => new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } }),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
