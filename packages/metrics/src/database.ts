import { performance } from 'node:perf_hooks';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsOptionsError } from './errors.js';
import type { ClientLike, InstrumentPoolOptions, Metrics, PoolLike } from './types.js';

const POOLS = Symbol.for('@org/metrics.pools');
const WRAPPED = Symbol.for('@org/metrics.wrapped-query');
const OPERATIONS = new Set([
  'select',
  'insert',
  'update',
  'delete',
  'begin',
  'commit',
  'rollback',
  'with',
  'copy',
  'create',
  'alter',
  'drop',
  'truncate',
  'set',
  'savepoint',
  'release',
  'listen',
  'notify',
  'lock',
  'explain',
  'vacuum',
  'analyze',
  'call',
  'do',
  'show',
  'prepare',
  'execute',
]);

/** First SQL keyword, lower-cased, from a closed list: the SQL text itself never becomes a label. */
export function sqlOperation(text: unknown): string {
  if (typeof text !== 'string') return 'other';
  const m = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([a-zA-Z]+)/.exec(text);
  const word = m?.[1]?.toLowerCase();
  return word && OPERATIONS.has(word) ? word : 'other';
}

function textOf(args: unknown[]): unknown {
  const first = args[0];
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && 'text' in first) return (first as { text: unknown }).text;
  return undefined;
}

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  // SQLSTATE codes are 5 characters from a fixed list; anything else (driver/network errors) is grouped.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : 'other';
};

/**
 * Instruments a `pg.Pool` in place, without changing how callers use it: every query of every client
 * (including `pool.query`) is timed, errors counted by SQLSTATE, and connection counts read on scrape.
 * Instrument before the first query; clients connected earlier are wrapped when they are next checked
 * out only if pg emits 'connect' for them, so do it at startup. Returns a function that undoes it.
 */
export function instrumentPool(metrics: Metrics, pool: PoolLike, options: InstrumentPoolOptions = {}): () => void {
  if (!pool || typeof pool.on !== 'function' || typeof pool.totalCount !== 'number')
    throw new MetricsOptionsError('instrumentPool needs a pg.Pool');
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || !/^[a-zA-Z0-9_.-]{1,64}$/.test(name))
    throw new MetricsOptionsError('options.name must be 1-64 characters of letters, digits, "_", "." or "-"');

  const duration: Histogram<'pool' | 'operation'> = metrics.histogram({
    name: 'database_query_duration_seconds',
    help: 'Duration of database queries, by pool and SQL operation, in seconds.',
    labelNames: ['pool', 'operation'],
    buckets: options.buckets ?? [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const errors: Counter<'pool' | 'operation' | 'code'> = metrics.counter({
    name: 'database_query_errors_total',
    help: 'Failed database queries, by pool, SQL operation and SQLSTATE code.',
    labelNames: ['pool', 'operation', 'code'],
  });
  // The gauges read every instrumented pool on scrape; the pool list lives on the gauge so a second
  // instrumentPool call on the same registry adds to it instead of registering twice.
  const poolsOf = (g: Gauge<'pool'>) => ((g as unknown as { [POOLS]?: Map<string, PoolLike> })[POOLS] ??= new Map());
  const gauge = (metric: string, help: string, read: (p: PoolLike) => number) =>
    metrics.gauge({
      name: metric,
      help,
      labelNames: ['pool'],
      collect() {
        for (const [label, p] of poolsOf(this)) this.set({ pool: label }, read(p));
      },
    });
  const gauges = [
    gauge('database_connections_active', 'Pool connections checked out by callers.', (p) =>
      Math.max(0, p.totalCount - p.idleCount),
    ),
    gauge('database_connections_idle', 'Pool connections open and idle.', (p) => p.idleCount),
    gauge('database_connections_waiting', 'Callers waiting for a pool connection.', (p) => p.waitingCount),
  ];
  for (const g of gauges) poolsOf(g).set(name, pool);

  const wrap = (client: ClientLike) => {
    const original = client.query as (...args: unknown[]) => unknown;
    if ((original as { [WRAPPED]?: true })[WRAPPED]) return;
    const wrapped = function instrumentedQuery(this: unknown, ...args: unknown[]): unknown {
      const operation = sqlOperation(textOf(args));
      const started = performance.now();
      const done = (error: unknown) => {
        duration.observe({ pool: name, operation }, (performance.now() - started) / 1000);
        if (error) errors.inc({ pool: name, operation, code: codeOf(error) });
      };
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        args[args.length - 1] = function (this: unknown, error: unknown, ...rest: unknown[]) {
          done(error);
          return (last as (...a: unknown[]) => unknown).call(this, error, ...rest);
        };
        return original.apply(this, args);
      }
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (error) {
        done(error);
        throw error;
      }
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(() => done(undefined), done);
      } else if (result && typeof (result as { once?: unknown }).once === 'function') {
        // Submittables (cursors, streams) report through events.
        const emitter = result as { once(e: string, l: (x?: unknown) => void): void };
        emitter.once('end', () => done(undefined));
        emitter.once('error', done);
      }
      return result;
    };
    Object.defineProperty(wrapped, WRAPPED, { value: true });
    Object.defineProperty(wrapped, 'original', { value: original });
    client.query = wrapped as never;
  };
  pool.on('connect', wrap);
  // Failing to get a connection at all (server down, pool timeout) never reaches a client's query, so
  // the pool's connect is wrapped too: those failures count as operation="connect".
  const poolWithConnect = pool as unknown as { connect?: (...args: unknown[]) => unknown };
  const originalConnect = poolWithConnect.connect;
  if (typeof originalConnect === 'function' && !(originalConnect as { [WRAPPED]?: true })[WRAPPED]) {
    const connectFailed = (error: unknown) => errors.inc({ pool: name, operation: 'connect', code: codeOf(error) });
    const wrappedConnect = function instrumentedConnect(this: unknown, ...args: unknown[]): unknown {
      const cb = args[0];
      if (typeof cb === 'function') {
        return originalConnect.call(this, (error: unknown, ...rest: unknown[]) => {
          if (error) connectFailed(error);
          return (cb as (...a: unknown[]) => unknown)(error, ...rest);
        });
      }
      const result = originalConnect.apply(this, args) as Promise<unknown>;
      result.catch(connectFailed);
      return result;
    };
    Object.defineProperty(wrappedConnect, WRAPPED, { value: true });
    poolWithConnect.connect = wrappedConnect;
  }
  // Clients already open (pg keeps them in the private _clients list) get wrapped too.
  for (const client of (pool as unknown as { _clients?: ClientLike[] })._clients ?? []) wrap(client);

  return () => {
    pool.removeListener('connect', wrap);
    if (originalConnect) poolWithConnect.connect = originalConnect;
    for (const g of gauges) poolsOf(g).delete(name);
    for (const client of (pool as unknown as { _clients?: ClientLike[] })._clients ?? []) {
      const q = client.query as { original?: ClientLike['query'] };
      if (q.original) client.query = q.original;
    }
  };
}
