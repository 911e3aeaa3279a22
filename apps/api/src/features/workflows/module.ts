import type { KeyObject } from 'node:crypto';
import type { Cache } from '@org/cache';
import { Router } from 'express';
import type { Logger } from 'pino';
import { principalCache } from '../../auth/principal-cache.js';
import { sessionCookie, createSessionStore } from '../../auth/sessions.js';
import type { Database } from '../../db/database.js';
import { seedDemo, startDemoGhl, DEMO_CLIENT, type DemoLocation, type FakeGhl } from '../../demo/demo-mode.js';
import { createGhlAuthRouter } from '../../routes/auth-ghl.js';
import { createDemoRouter } from '../../demo/routes.js';
import { createWorkflowRoutes } from './routes.js';
import type { UserRecords } from '../billing/user-record.js';
import { CacheKeys } from '../../cache/keys.js';
import type { WorkflowCache } from './cache.js';
import { createWorkflowService, type AnalysisEvent, type WorkflowService } from './service.js';
import { createGhlClient, type GhlClient, type GhlRequestEvent } from '../../ghl/client.js';
import {
  createBuilderDefinitionSource,
  createImportedDefinitionSource,
  type WorkflowDefinitionSource,
} from './definition-sources.js';
import { createOAuthStateStore } from '../../ghl/oauth-state.js';
import { createOAuthClient } from '../../ghl/oauth.js';
import type { GhlRateLimiter } from '../../ghl/rate-limiter.js';
import { createTokenCipher } from '../../ghl/token-crypto.js';
import { createTokenStore, type TokenStore } from '../../ghl/token-store.js';
import { createGhlWebhookRouter } from '../../ghl/webhooks.js';
import {
  createJobEventStreams,
  createMemoryAnalysisQueue,
  isBatchId,
  type JobEventStreams,
  type AnalysisBudget,
  type AnalysisQueue,
} from '../../jobs/index.js';
import { analysisProcessor } from './analysis-job.js';
import { lastAudit } from './audit.js';
import { ROUTER_OPTIONS } from '../../http/routing.js';
import type { AnalysisRunner } from './analysis-pool.js';

/** What createApp mounts (see AppDeps.ghl). */
export interface GhlRouters {
  /** `POST /webhooks/ghl`, raw body: mounted before the JSON parser. */
  webhooks: Router;
  /** `/auth/ghl/install`, `/auth/ghl/callback`, `/auth/demo/login`: after authentication, outside /api. */
  auth: Router;
  /** The workflow routes, mounted inside the v1 router. */
  api: Router;
}

export interface WorkflowModuleOptions {
  db: Database;
  logger: Logger;
  isProduction: boolean;
  sessionSecret: string;
  frontendUrl: string;
  ghl: {
    clientId: string;
    clientSecret: string;
    apiBaseUrl: string;
    authorizeUrl: string;
    redirectUri: string;
    webhookPublicKey?: KeyObject;
    /** Unofficial builder backend; undefined: definitions come from imports only. */
    builderBaseUrl?: string;
  };
  encryption: { keys: Record<string, Buffer>; currentKeyId: string };
  /**
   * Demo mode (development without GHL credentials): the fake GHL runs in-process with these fixtures and a demo
   * location is seeded by `afterMigrate`. Refused in production. @default off
   */
  demo?: { fixturesDir: string };
  cache?: WorkflowCache;
  /** The app's @org/cache, where verified sessions and API keys are remembered (src/auth/principal-cache.ts): logout and UNINSTALL forget them. @default none */
  principals?: Cache;
  /** The tier records the rate limiter reads (libs.users): analyses and history use the same tier. @default database reads */
  users?: Pick<UserRecords, 'get'>;
  limiter?: GhlRateLimiter;
  /** GHL request timeout. @default 10000 */
  ghlTimeoutMs?: number;
  onGhlRequest?: (event: GhlRequestEvent) => void;
  onAnalysis?: (event: AnalysisEvent) => void;
  /** Builds the background analysis queue around the service (src/jobs); closed by `close()`. @default in-process queue */
  analysisQueue?: (service: WorkflowService) => AnalysisQueue;
  /** Scheduled audits: a location that connects is audited on this cron (see syncAuditSchedules). @default off */
  audits?: { cron: string; timeZone: string };
  /** A job progress stream ends with an `expired` event after this long (JOB_EVENTS_MAX_LIFETIME_MS). @default 600000 */
  jobEventsMaxLifetimeMs?: number;
  /** Charges analyses to the tier's analysis limit (createAnalysisBudget). @default no limit on analyses */
  analysisBudget?: AnalysisBudget;
  /** Where analyses run (createAnalysisPool: worker threads with a time budget); not closed here. @default this thread */
  analysisRunner?: AnalysisRunner;
}

export interface WorkflowModule {
  routers: GhlRouters;
  service: WorkflowService;
  /** Background analyses (`POST /analyze` with `async: true`, `/jobs/:id`). */
  queue: AnalysisQueue;
  /** The open `/jobs/:id/events` streams. */
  jobEvents: JobEventStreams;
  tokens: TokenStore;
  client: GhlClient;
  /** The OpenAPI document of the workflow routes (for the app-wide document and contract tests). */
  openapi: ReturnType<typeof createWorkflowRoutes>['openapi'];
  /** Set in demo mode after `afterMigrate`. */
  demo(): DemoLocation | undefined;
  /** The in-process fake GHL in demo mode. */
  fake: FakeGhl | undefined;
  /** Work that needs the schema: seeds the demo location in demo mode. */
  afterMigrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The workflow feature composed: the GHL connection it reads from (OAuth, tokens, client, webhooks from src/ghl), the
 * definition sources, the workflow service, the analysis queue and the routes; in demo mode, the fake GHL.
 */
export async function createWorkflowModule(options: WorkflowModuleOptions): Promise<WorkflowModule> {
  if (options.demo && options.isProduction) throw new Error('demo mode is refused in production');
  const { db, logger } = options;
  const fake = options.demo ? await startDemoGhl(options.demo.fixturesDir) : undefined;
  const ghl = fake
    ? {
        ...options.ghl,
        ...DEMO_CLIENT,
        apiBaseUrl: fake.url,
        authorizeUrl: `${fake.url}/oauth/chooselocation`,
        builderBaseUrl: fake.url,
      }
    : options.ghl;

  const cipher = createTokenCipher({ keys: options.encryption.keys, currentKeyId: options.encryption.currentKeyId });
  const oauth = createOAuthClient({ baseUrl: ghl.apiBaseUrl, clientId: ghl.clientId, clientSecret: ghl.clientSecret });
  const tokens = createTokenStore({ db, cipher, oauth });
  const client = createGhlClient({
    baseUrl: ghl.apiBaseUrl,
    tokens: (locationId, o) => tokens.accessToken(locationId, o),
    limiter: options.limiter,
    timeoutMs: options.ghlTimeoutMs,
    onRequest: options.onGhlRequest,
  });
  const imported = createImportedDefinitionSource(db);
  const sources: WorkflowDefinitionSource[] = ghl.builderBaseUrl
    ? [createBuilderDefinitionSource({ client, baseUrl: ghl.builderBaseUrl })]
    : [];
  const service = createWorkflowService({
    db,
    ghl: client,
    imported,
    sources,
    cache: options.cache,
    users: options.users,
    onAnalysis: options.onAnalysis,
    runner: options.analysisRunner,
  });
  const forget = async (locationId: string) => {
    await Promise.all([
      options.cache?.delete(CacheKeys.workflows(locationId)),
      options.cache?.delete(CacheKeys.analysisContext(locationId)),
    ]);
  };

  const sessions = createSessionStore(db, options.sessionSecret, { cache: options.principals });
  const cookie = sessionCookie(options.isProduction);
  let demoLocation: DemoLocation | undefined;

  const auth = Router(ROUTER_OPTIONS);
  auth.use(
    createGhlAuthRouter({
      db,
      states: createOAuthStateStore(db),
      oauth,
      tokens,
      sessions,
      cookie,
      clientId: ghl.clientId,
      authorizeUrl: ghl.authorizeUrl,
      redirectUri: ghl.redirectUri,
      frontendUrl: options.frontendUrl,
      onConnected: async (locationId) => {
        await forget(locationId);
        // Best effort: the connection stands either way, and every worker start schedules connected locations again.
        if (options.audits) {
          await queue
            .scheduleAudit(locationId, options.audits.cron, options.audits.timeZone)
            .catch((error: unknown) => logger.warn({ err: error, locationId }, 'scheduling the audit failed'));
        }
      },
    }),
  );
  auth.use(createDemoRouter({ demo: () => demoLocation, isProduction: options.isProduction, sessions, cookie }));
  const queue = options.analysisQueue
    ? options.analysisQueue(service)
    : createMemoryAnalysisQueue({ processor: analysisProcessor(service, { db }) });
  const jobEvents = createJobEventStreams({
    read: (id) => (isBatchId(id) ? queue.getBatch(id) : queue.get(id)),
    watch: (listener) => queue.watch(listener),
    maxLifetimeMs: options.jobEventsMaxLifetimeMs,
  });
  const workflowRoutes = createWorkflowRoutes({
    service,
    queue,
    budget: options.analysisBudget,
    streams: jobEvents,
    lastAudit: (locationId) => lastAudit(db, locationId),
  });

  return {
    routers: {
      webhooks: createGhlWebhookRouter({
        db,
        tokens,
        publicKey: ghl.webhookPublicKey,
        logger,
        onEvent: async (e) => {
          if (!e.locationId) return;
          await forget(e.locationId);
          // Every instance stops trusting the location's sessions and API keys it had verified (the rows went in the transaction).
          if (e.type === 'UNINSTALL' && options.principals)
            await principalCache(options.principals).forgetLocation(e.locationId);
          // Right after the revocation commits; a worker start would drop the schedule of a disconnected location too.
          if (e.type === 'UNINSTALL')
            await queue
              .unscheduleAudit(e.locationId)
              .catch((error: unknown) =>
                logger.warn({ err: error, locationId: e.locationId }, 'unscheduling the audit failed'),
              );
        },
      }),
      auth,
      api: workflowRoutes.router,
    },
    service,
    queue,
    jobEvents,
    tokens,
    client,
    openapi: workflowRoutes.openapi,
    demo: () => demoLocation,
    fake,
    async afterMigrate() {
      if (fake) {
        demoLocation = await seedDemo({ db, tokens, fake });
        logger.info(
          { locationId: demoLocation.locationId, fakeGhl: fake.url },
          'demo mode: fake GHL started and demo location seeded (POST /auth/demo/login)',
        );
      }
    },
    async close() {
      jobEvents.closeAll();
      await queue.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the analysis queue failed'));
      await fake?.close();
    },
  };
}
