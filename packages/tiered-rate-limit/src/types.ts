/**
 * The package's public types, in one place: tiers and policies, the limiter's options, inputs and
 * decisions, the options every framework binding shares and the Express middleware's, headers and response bodies.
 * `index.ts` re-exports them.
 */
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Cluster, Redis } from 'ioredis';
import type { Registry } from 'prom-client';

/** A value or a promise of it: hooks may answer synchronously (no microtask turn) or asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** How a policy counts. */
export type Algorithm = 'fixed-window' | 'sliding-window' | 'gcra';

/**
 * What a policy does while Redis cannot answer: `fallback` limits in process memory to
 * `ceil(limit x fallbackShare)`, `closed` rejects with 503 + Retry-After, `open` lets the request through.
 */
export type FailureMode = 'fallback' | 'closed' | 'open';

/** One limit of a tier, e.g. "20 requests per minute". */
export interface PolicyDefinition {
  /** Units (requests, or cost units) allowed per window; a positive integer. */
  limit: number;
  /** Window length: whole seconds, or `'1m'`, `'1h'`, `'1d'`. */
  window: Duration;
  /** Units one request consumes (override per request with the `cost` option). @default 1 */
  cost?: number;
  /** Counting algorithm. @default 'fixed-window' */
  algorithm?: Algorithm;
  /** Behaviour while Redis is unavailable. @default 'fallback' */
  onStoreUnavailable?: FailureMode;
  /** After a rejection by this policy, reject the key for this long (penalty for abuse). @default undefined (no block) */
  blockDuration?: Duration;
}

/** One subscription tier. */
export interface TierDefinition {
  /** Name shown to users, e.g. in the 429 message. @default the tier name with a capital first letter */
  label?: string;
  /** The tier's policies by name; every tier must define the same policy names. */
  policies: Readonly<Record<string, PolicyDefinition>>;
  /** Free-form data exposed on the tier (e.g. `historyRetentionDays`). @default {} */
  metadata?: Readonly<Record<string, unknown>>;
}

/** A validated policy, windows in milliseconds. */
export interface Policy {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly cost: number;
  readonly algorithm: Algorithm;
  readonly onStoreUnavailable: FailureMode;
  readonly blockMs: number;
}

/** A validated tier. `rank` is its position in the table (0 = lowest). */
export interface Tier<M extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>> {
  readonly name: string;
  readonly label: string;
  readonly rank: number;
  readonly metadata: M;
  readonly policies: ReadonlyMap<string, Policy>;
}

/** The validated tier table that limiters and middleware take. Tiers are ordered lowest first (the upgrade path). */
export interface TierTable<N extends string = string> {
  /** Tier names, lowest first. */
  readonly names: readonly N[];
  /** Policy names, in declaration order; the first one is the default policy of a request. */
  readonly policyNames: readonly string[];
  /** The tier called `name`, or undefined. */
  get(name: string): Tier | undefined;
  /** The tier called `name`, or the lowest tier when the name is unknown or missing. */
  resolve(name: string | undefined | null): Tier;
  /** The next tier up, or undefined for the highest. */
  next(tier: Tier): Tier | undefined;
}

/** Metadata of the default tiers. `historyRetentionDays: null` means unlimited. */
export interface DefaultTierMetadata extends Record<string, unknown> {
  readonly historyRetentionDays: number | null;
}

/** A duration: whole seconds as a number, or a string such as `'30s'`, `'1m'`, `'1h'`, `'7d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** Options of `createLimiter` (and of the middleware, which adds its own). */
export interface LimiterOptions {
  /** The tier table from `defineTiers` (or `defaultTiers()`). */
  tiers: TierTable;
  /** An ioredis `Redis` or `Cluster`, or a node-redis v5 client. Without it, counters live in process memory (one instance only). @default undefined */
  redis?: RedisClient;
  /** `dedicated`: decide through a fail-fast duplicate of `redis` that the limiter owns and closes; `shared`: use `redis` as is. @default 'dedicated' */
  connection?: 'dedicated' | 'shared';
  /** Prefix of every Redis key. @default 'rl:' */
  prefix?: string;
  /** Decision time: `redis` asks Redis (`TIME`, one clock for every instance); `local` sends this process's clock (one command less per decision; instances with skewed clocks then disagree by the skew). @default 'redis' */
  clock?: 'redis' | 'local';
  /** Deadline of one Redis decision; past it the policies' `onStoreUnavailable` mode decides. @default 30 */
  timeoutMs?: number;
  /** How often a background PING checks whether Redis is back during an outage. @default 200 */
  probeIntervalMs?: number;
  /** Share of each limit one instance may admit from memory during an outage (`ceil(limit x share)`); set 1/instances. @default 1 */
  fallbackShare?: number;
  /** Hard cap on keys held by the in-memory store (least recently used evicted); the local block list holds at most min(this, 10 000) principals. @default 100_000 */
  maxMemoryKeys?: number;
  /** Answer keys that are already over a limit from memory until their retry time, without a Redis call (same tier and policies only: a tier change asks Redis again). @default true */
  localBlock?: boolean;
  /** Receives one line per Redis state change (never per request). @default console */
  logger?: Logger;
  /** Called once per Redis state change. @default undefined */
  onStateChange?: (event: StoreStateEvent) => void;
  /** prom-client Registry for the `rate_limit_exceeded_total{tier,policy}` counter. @default undefined (no metrics) */
  registry?: Registry;
}

/** One request to decide. */
export interface CheckInput {
  /** Who is limited: an account, API key id or `ip:...`. Never a secret (it becomes part of a Redis key). */
  key: string;
  /** Tier name; unknown or missing means the lowest tier. @default the lowest tier */
  tier?: string | undefined;
  /** Policies that apply to this request, decided together. @default the table's first policy */
  policies?: readonly string[];
  /** Units to consume: one number for every policy, or per policy name. @default each policy's `cost` */
  cost?: number | Readonly<Record<string, number>>;
}

/** A principal and the policies to read (`get`) or forget (`reset`). */
export interface StateInput {
  /** The principal, as passed to `check`. */
  key: string;
  /** Tier whose limits the state is measured against (`get` only). @default the lowest tier */
  tier?: string | undefined;
  /** Policies to read or forget. @default every policy of the table */
  policies?: readonly string[];
}

/** Units to give back to a principal (`refund`): the fields of the check that took them. */
export interface RefundInput extends CheckInput {
  /** When the units were taken (the decision's `nowMs`): a fixed or sliding window that has rolled over since gets nothing back. @default now */
  at?: number;
  /** Where the units were taken (the decision's `source`): `memory` and `fallback` give back in process memory. @default Redis when configured and available, else memory */
  source?: DecisionSource;
}

/** A principal's state, read without consuming anything (`get`). */
export interface LimitState {
  readonly key: string;
  readonly tier: Tier;
  /** `redis`, `memory` (no Redis configured) or `fallback` (Redis unavailable: the outage counters). */
  readonly source: 'redis' | 'memory' | 'fallback';
  /** Read time, epoch ms (Redis time when Redis answered). */
  readonly nowMs: number;
  /** Per policy: units left now, when the quota resets, and whether a request of the policy's cost would be rejected now. */
  readonly policies: readonly PolicyState[];
}

/** One policy's state after a decision. */
export interface PolicyState {
  readonly policy: string;
  readonly algorithm: Algorithm;
  /** The limit enforced for this decision (during a fallback: `ceil(limit x fallbackShare)`). */
  readonly limit: number;
  readonly windowSec: number;
  /** Units left after this request. */
  readonly remaining: number;
  /** Milliseconds until the quota resets; for a limited policy, until this request could pass. */
  readonly resetMs: number;
  /** Milliseconds until this request could pass (0 when the policy admitted it). */
  readonly retryAfterMs: number;
  readonly limited: boolean;
}

/**
 * `allowed`: admitted. `limited`: a policy rejected it (429). `store-unavailable`: Redis could not decide
 * and a policy is in `closed` mode (503).
 */
export type Outcome = 'allowed' | 'limited' | 'store-unavailable';

/** Where the answer came from. */
export type DecisionSource = 'redis' | 'memory' | 'local-block' | 'fallback' | 'none';

export interface Decision {
  readonly allowed: boolean;
  readonly outcome: Outcome;
  readonly source: DecisionSource;
  readonly tier: Tier;
  readonly key: string;
  /** Every policy that applied, in the order requested. */
  readonly policies: readonly PolicyState[];
  /** The policies that rejected the request. */
  readonly violated: readonly PolicyState[];
  /** Decision time, epoch ms (Redis time when Redis decided). */
  readonly nowMs: number;
  /** Seconds to wait before retrying (0 when allowed). */
  readonly retryAfterSec: number;
}

export interface Limiter {
  readonly tiers: TierTable;
  /** Decides a request atomically over its policies (all-or-nothing). Never rejects for store failures: see `outcome`. */
  check(input: CheckInput): Promise<Decision>;
  /**
   * Reads a principal's state without consuming (a string is the key; every policy, lowest tier). Redis
   * unavailable: the outage counters in memory. Rejects with StoreUnavailableError when Redis fails mid-call.
   */
  get(input: string | StateInput): Promise<LimitState>;
  /**
   * Gives back units a check took (`cost`, default each policy's cost), atomically; never below zero and
   * never into a window that did not count them. A block set by `blockDuration` stays.
   */
  refund(input: string | RefundInput, cost?: number): Promise<void>;
  /** Forgets a principal's state (every policy, or those listed) in Redis and in memory, and its local block. */
  reset(input: string | StateInput): Promise<void>;
  /** Whether Redis is currently used (true when no Redis is configured). */
  readonly storeAvailable: boolean;
  /** Stops timers and closes what the limiter created (the dedicated connection); idempotent. */
  close(): Promise<void>;
}

/** Which admitted requests stop counting once their response is done. */
export interface ResponseRefundOptions {
  /** Give back what a successful request took, so only failures count (login endpoints). @default false */
  skipSuccessfulRequests?: boolean;
  /** Give back what a failed request took, so only successes count. @default false */
  skipFailedRequests?: boolean;
}

/** What a framework binding knows about a response once it is done. */
export interface ResponseOutcome {
  /** The status code that was sent. */
  readonly statusCode: number;
  /** Whether the response was sent in full; false when the client went away or the response failed midway. */
  readonly finished: boolean;
}

/** Refunds after the response, shared by every framework binding. */
export interface ResponseRefund {
  /** False when neither option is set: a binding then need not watch responses at all. */
  readonly enabled: boolean;
  /**
   * Gives back what `decision` took (same key, tier, policies and cost as `input`) when the response's
   * success, as the binding judged it, is one the options skip. Only admitted decisions that counted
   * something are refunded (a 429 took nothing); the refund is credited to the window and store that
   * counted the request. Never throws: a failed refund leaves the request counted.
   */
  settle(limiter: Limiter, input: CheckInput, decision: Decision, successful: boolean | Promise<boolean>): void;
}

/** Where the limiter writes its one log line per store state change. */
export interface Logger {
  warn(message: string, context?: Record<string, unknown>): void;
  info?(message: string, context?: Record<string, unknown>): void;
}

/** Emitted once per transition between Redis being usable and not. */
export interface StoreStateEvent {
  readonly state: 'available' | 'unavailable';
  /** Why Redis was declared unavailable (message only, never connection strings). */
  readonly reason?: string;
  /** For `available`: how long the outage lasted. */
  readonly outageMs?: number;
}

/**
 * The Redis client a limiter accepts: an ioredis `Redis` or `Cluster`, or a node-redis v5 client
 * (`createClient()` of `redis` or `@redis/client`; not its cluster).
 */
export type RedisClient = Redis | Cluster | NodeRedisClientLike;

/** The part of a node-redis v5 client the limiter uses. */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-redis types its listeners with any[]
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-redis types its listeners with any[]
  off(event: string, listener: (...args: any[]) => void): unknown;
  connect(): Promise<unknown>;
  duplicate(options?: object): NodeRedisClientLike;
  /** The options the client was created with (node-redis merges `duplicate`'s overrides shallowly). */
  readonly options?: { socket?: object };
  destroy(): void;
}

/** Options of `tieredRateLimit`: the limiter's options plus how to read an Express request. */
export interface RateLimitOptions extends RequestLimitOptions<Request> {
  /** Whether a response counts as a success for `skipSuccessfulRequests` / `skipFailedRequests`; called once the response is done. A response the client abandoned before it was sent is a failure whatever this says. @default (req, res) => res.statusCode < 400 */
  requestWasSuccessful?: (req: Request, res: Response) => MaybePromise<boolean>;
  /** Answers a request that is not allowed instead of the default (`body` is what the library would send; the headers are already set). @default sends `body` with its status */
  handler?: (req: Request, res: Response, next: NextFunction, limited: RateLimited) => unknown;
  /** The Express app, to refuse `trust proxy = true` at construction (otherwise checked on the first request). @default undefined */
  app?: Application;
}

/** The middleware, with its limiter (for direct checks) and `close()`. */
export interface RateLimitMiddleware extends RequestHandler {
  readonly limiter: Limiter;
  /** Closes the limiter (timers and the dedicated Redis connection). */
  close(): Promise<void>;
  /**
   * The limiter key this middleware uses for a principal (as `key` returns it) or a client IP, for
   * `limiter.get`, `limiter.refund` and `limiter.reset`: `mw.limiter.reset(mw.limiterKey('acct_1'))`.
   */
  limiterKey(principal: string | { ip: string }): string;
}

/** Which header families to emit. */
export interface HeaderOptions {
  /** `X-RateLimit-Tier/-Limit/-Window/-Remaining/-Reset` for the most restrictive policy. @default true */
  legacy?: boolean;
  /** IETF draft-11 `RateLimit-Policy` and `RateLimit` listing every policy. @default true */
  standard?: boolean;
}

/** Body format of 429 and 503 answers. */
export type ErrorFormat = 'json' | 'problem+json';

/** The default 429 body: `{ success: false, error: { message, code, retryAfter, currentTier, upgradeUrl?, limits } }`. */
export interface RateLimitExceededBody {
  success: false;
  error: {
    message: string;
    code: 'RATE_LIMIT_EXCEEDED';
    retryAfter: number;
    currentTier: string;
    upgradeUrl?: string;
    limits: Record<string, number>;
  };
}

/** The default 503 body while a `closed` policy cannot reach its store. */
export interface RateLimitUnavailableBody {
  success: false;
  error: { message: string; code: 'RATE_LIMIT_UNAVAILABLE'; retryAfter: number; currentTier: string };
}

/** The `problem+json` body (RFC 9457) of a 429 or 503. */
export interface RateLimitProblemBody {
  type: string;
  title: string;
  status: 429 | 503;
  detail: string;
  retryAfter: number;
  'violated-policies'?: string[];
  tier?: string;
  upgrade?: { tier: string; limit: number; url: string };
}

/** Any default body of a 429 or 503. */
export type RateLimitBody = RateLimitExceededBody | RateLimitUnavailableBody | RateLimitProblemBody;

/** A JSON Schema (draft 2020-12 / OpenAPI 3.1 subset) as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** One header as OpenAPI describes it: `{ description, schema }`. */
export interface HeaderDefinition {
  readonly description: string;
  readonly schema: JsonSchema;
}

/** What a binding's `handler` receives besides the framework's request and response. */
export interface RateLimited {
  /** The decision that was not allowed (outcome `limited` for a 429, `store-unavailable` for a 503). */
  readonly decision: Decision;
  /** The status the default answer uses: 429, or 503 while a `closed` policy cannot reach its store. */
  readonly status: 429 | 503;
  /** The body the library would send (in `format`), for the handler to send, extend or replace. */
  readonly body: RateLimitBody;
}

/**
 * How a framework binding reads a request (`Req` is the framework's request or context): the limiter's
 * options plus the request-level ones every binding shares.
 */
export interface RequestLimitOptions<Req> extends LimiterOptions, ResponseRefundOptions {
  /** The caller's tier, e.g. from the account's subscription; read on every request so upgrades apply at once. Unknown or missing = lowest tier. @default () => undefined */
  resolveTier?: (req: Req) => MaybePromise<string | undefined | null>;
  /** The authenticated principal (account, location, API key id; never the secret). Missing = keyed by client IP. @default () => undefined */
  key?: (req: Req) => MaybePromise<string | undefined | null>;
  /** Policies that apply to a request, decided together in one round trip. @default the tier table's first policy */
  policies?: readonly string[] | ((req: Req) => readonly string[]);
  /** Units this request consumes (a number for every policy, or per policy). @default each policy's `cost` */
  cost?: (req: Req) => CheckInput['cost'];
  /** Requests for which the limiter does nothing (no counting, no headers). @default () => false */
  skip?: (req: Req) => MaybePromise<boolean>;
  /** Keys never limited: principals as returned by `key`, or client IPs (as keyed, IPv6 as `<network>/56`). @default [] */
  allowlist?: readonly string[];
  /** Header families to send; `false` sends none. @default true (both) */
  headers?: boolean | HeaderOptions;
  /** Body of 429/503 answers: the `{ success: false, error }` shape, or RFC 9457 problem details. @default 'json' */
  format?: ErrorFormat;
  /** Where the 429 upgrade prompt points (the next tier up and its limit); `null` or unset sends no prompt. @default null */
  upgradeUrl?: string | null;
  /** Prefix length that groups IPv6 clients. @default 56 */
  ipv6Subnet?: number;
}
