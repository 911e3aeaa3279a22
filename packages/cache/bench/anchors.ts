/* eslint-disable @typescript-eslint/no-explicit-any -- the anchors' option types differ; the bench drives them uniformly */
// The competitors, each behind one small interface so that every section drives them the same way.
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { Cacheable } from 'cacheable';
import { createCache as createCacheManager } from 'cache-manager';
import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import { createCache as createDedupe } from 'async-cache-dedupe';
import { Redis } from 'ioredis';

export interface Lib {
  name: string;
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  wrap(key: string, factory: () => Promise<unknown>): Promise<unknown>;
  close(): Promise<void>;
}

const TTL_S = 600;

export function bento(name: string, store: any, prefix: string): Lib {
  const cache = new BentoCache({ default: 'c', prefix, stores: { c: store } } as any);
  return {
    name,
    get: (key) => cache.get({ key }),
    set: (key, value) => cache.set({ key, value, ttl: TTL_S * 1000 }),
    wrap: (key, factory) => cache.getOrSet({ key, factory, ttl: TTL_S * 1000 }),
    close: () => cache.disconnectAll(),
  };
}

export const bentoL1 = (prefix: string, serialize = true) =>
  bento(
    `bentocache L1${serialize ? '' : ' serialize:false'}`,
    bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize } as any)),
    prefix,
  );
export const bentoL1L2 = (url: string, prefix: string) =>
  bento(
    'bentocache L1+L2',
    bentostore()
      .useL1Layer(memoryDriver({ maxItems: 10_000 }))
      .useL2Layer(redisDriver({ connection: redisOptions(url) })),
    prefix,
  );
export const bentoL2 = (url: string, prefix: string) =>
  bento('bentocache L2-only', bentostore().useL2Layer(redisDriver({ connection: redisOptions(url) })), prefix);

function redisOptions(url: string): any {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), db: Number(u.pathname.slice(1) || 0) };
}

export function cacheable(name: string, options: any): Lib {
  const cache = new Cacheable(options);
  return {
    name,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value, TTL_S * 1000),
    wrap: (key, factory) => cache.getOrSet(key, factory, { ttl: TTL_S * 1000 }),
    close: () => cache.disconnect(),
  };
}

export const cacheableMemory = () => cacheable('cacheable (default memory)', {});
export const cacheableL1L2 = (url: string, ns: string) =>
  cacheable('cacheable mem+@keyv/redis', { secondary: new KeyvRedis(url), namespace: ns });
export const cacheableL2 = (url: string, ns: string) =>
  cacheable('cacheable primary=@keyv/redis', { primary: new Keyv({ store: new KeyvRedis(url), namespace: ns }) });

export function cacheManager(name: string, stores: Keyv[] | undefined): Lib {
  const cache = createCacheManager(stores ? { stores } : {});
  return {
    name,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value, TTL_S * 1000),
    wrap: (key, factory) => cache.wrap(key, factory, TTL_S * 1000),
    close: async () => {
      await cache.disconnect();
    },
  };
}

/** keyv with @keyv/redis (node-redis underneath): the fastest Redis peer of the anchor study. */
export function keyvRedis(url: string, ns: string): Lib {
  const keyv = new Keyv({ store: new KeyvRedis(url), namespace: ns });
  return {
    name: 'keyv + @keyv/redis (node-redis)',
    get: (key) => keyv.get(key),
    set: (key, value) => keyv.set(key, value, TTL_S * 1000),
    wrap: async (key, factory) => (await keyv.get(key)) ?? factory(),
    close: () => keyv.disconnect(),
  };
}

export const cacheManagerMemory = () => cacheManager('cache-manager (default Keyv Map)', undefined);
export const cacheManagerRedis = (url: string, ns: string) =>
  cacheManager('cache-manager [@keyv/redis]', [new Keyv({ store: new KeyvRedis(url), namespace: ns })]);
export const cacheManagerL1L2 = (url: string, ns: string) =>
  cacheManager('cache-manager [mem, @keyv/redis]', [
    new Keyv(),
    new Keyv({ store: new KeyvRedis(url), namespace: ns }),
  ]);

/** async-cache-dedupe has no get/set: one defined function per cache; `get` is its call. */
export function dedupe(
  name: string,
  storage: any,
  fnName: string,
): Lib & { factory: (key: string) => Promise<unknown> } {
  const holder = { factory: async (_key: string): Promise<unknown> => undefined };
  const cache: any = createDedupe({ ttl: TTL_S, storage });
  cache.define(fnName, async (key: string) => holder.factory(key));
  const lib = {
    name,
    factory: holder.factory,
    get: (key: string) => cache[fnName](key),
    set: async (key: string, value: unknown) => {
      holder.factory = async () => value;
      await cache[fnName](key);
    },
    wrap: (key: string, factory: () => Promise<unknown>) => {
      holder.factory = factory;
      return cache[fnName](key);
    },
    close: async () => {
      if (storage.options?.client) (storage.options.client as Redis).disconnect();
    },
  };
  return lib;
}

export const dedupeMemory = (fnName: string) =>
  dedupe('async-cache-dedupe memory', { type: 'memory', options: { size: 10_000 } }, fnName);
export function dedupeRedis(url: string, fnName: string) {
  const client = new Redis(url);
  client.on('error', () => {});
  return dedupe('async-cache-dedupe redis (ioredis)', { type: 'redis', options: { client } }, fnName);
}
