import Keyv from 'keyv';
import { createKeyvStore, type KeyvCacheStore } from '@org/cache/keyv';
import {
  CacheTTL,
  createCache,
  defineKeys,
  type Cache,
  type CacheOptions,
  type CacheStats,
  CacheError,
  type CacheLogger,
  type CacheSerializer,
  type Duration,
  type FactoryContext,
} from '@org/cache';

const options: CacheOptions = { maxEntries: 1000, ttlJitter: 0.05, operationTimeoutMs: 40, mode: 'near' };
const CacheKeys = defineKeys(
  { workflow: 'workflow:{locationId}:{workflowId}', analysis: 'analysis:{workflowId}' },
  { tenant: 'locationId' },
);

interface Workflow {
  id: string;
  updatedAt: Date;
}

export async function usage(cache: Cache = createCache(options)): Promise<Workflow | undefined> {
  const key: string = CacheKeys.workflow('loc', 'wf');
  // @ts-expect-error the template has two placeholders
  CacheKeys.workflow('loc');
  const wf: Workflow = await cache.wrap(key, async (): Promise<Workflow> => ({ id: 'wf', updatedAt: new Date() }), {
    ttl: CacheTTL.WORKFLOW,
    tags: ['loc'],
  });
  await cache.set(CacheKeys.analysis(wf.id), { score: 1 }, CacheTTL.ANALYSIS);
  const stats: CacheStats = cache.forTenant('loc').stats();
  const off: () => void = cache.on('error', ({ error }) => void (error.code satisfies string));
  off();
  const sync: Workflow | undefined = cache.peek<Workflow>(key);
  return stats.redis === 'none' ? sync : cache.get<Workflow>(key);
}

const logger: CacheLogger = console;
const serializer: CacheSerializer = { serialize: JSON.stringify, deserialize: JSON.parse };
const ttl: Duration = '5m';
// @ts-expect-error a duration needs a known unit
const badTtl: Duration = '5 minutes';
export const withOptions: CacheOptions = { logger, serializer, defaultTtl: ttl, grace: '1h', allowLongTtl: false };
export const tokenFactory = (ctx: FactoryContext<string>): string => {
  ctx.setTtl(3600);
  ctx.setTags(['auth']);
  if (ctx.stale !== undefined) return ctx.stale.value;
  return 'token';
};
export { badTtl };

export const isCacheError = (e: unknown): e is CacheError => e instanceof CacheError;

export function keyvOver(cache: Cache): Keyv {
  const store: KeyvCacheStore = createKeyvStore(cache, { defaultTtl: 300 });
  return new Keyv({ store, namespace: 'app' });
}
