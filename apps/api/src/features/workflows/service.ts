import { randomUUID } from 'node:crypto';
import { loadUserRecord, type UserRecords } from '../billing/user-record.js';
import {
  ANALYZER_VERSION,
  AnalysisError,
  locationInventorySchema,
  parseWorkflowDefinition,
  scoreBand,
  type Finding,
  type LocationInventory,
  type WorkflowDefinition,
  workflowIdOf,
  type WorkflowSummary,
} from '../../analysis/index.js';
import { retentionDays, type Tier } from '../billing/tiers.js';
import type { Database } from '../../db/database.js';
import type { GhlClient, GhlWorkflowSummary } from '../../ghl/client.js';
import type { ImportedDefinitionSource, StoredDefinition, WorkflowDefinitionSource } from './definition-sources.js';
import { GhlError } from '../../ghl/errors.js';
import { notFoundError as notFound, WorkflowError } from './errors.js';
import { ANALYSIS_BY_ID_SQL, ANALYSIS_PAGE_SQL, INSERT_ANALYSIS_SQL } from './queries.js';
import { CacheKeys, CacheTtls } from '../../cache/keys.js';
import type { WorkflowCache } from './cache.js';
import { createInThreadRunner, type AnalysisRunner } from './analysis-pool.js';

/** One finished analysis, for metrics (workflow_analysis_total, _duration_seconds, workflow_health_score, workflow_issues_found). */
export interface AnalysisEvent {
  tier: Tier;
  status: 'ok' | 'cached' | 'invalid' | 'error';
  durationMs: number;
  score?: number;
  findings?: readonly Pick<Finding, 'ruleId' | 'severity'>[];
}

export interface WorkflowServiceOptions {
  db: Database;
  /** The GHL API client; undefined when the app has no GHL connection at all. */
  ghl?: GhlClient;
  imported: ImportedDefinitionSource;
  /** Extra definition sources tried after the imported ones (the builder backend). @default [] */
  sources?: readonly WorkflowDefinitionSource[];
  /** Read-through cache (AppDeps.cache once @org/cache is wired). @default none */
  cache?: WorkflowCache;
  /**
   * The location's tier record, the same cached `user:{locationId}` the rate limiter reads (billing invalidates it).
   * @default read from the database on every call
   */
  users?: Pick<UserRecords, 'get'>;
  /** Called after each analysis; must not throw. @default none */
  onAnalysis?: (event: AnalysisEvent) => void;
  /** Where analyses run: the worker-thread pool in the server (createAnalysisPool). @default this thread */
  runner?: AnalysisRunner;
}

export interface WorkflowListItem {
  id: string;
  name: string;
  status: string;
  version: number;
  updatedAt: string | null;
  hasDefinition: boolean;
  source: 'ghl' | 'import' | 'builder';
}

export interface AnalysisView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  name: string | null;
  score: number;
  band: string;
  issuesFound: number;
  findings: Finding[];
  tier: Tier;
  analyzerVersion: string;
  createdAt: string;
  cached: boolean;
}

export interface HistoryFilters {
  workflowId?: string;
  from?: Date;
  to?: Date;
  minScore?: number;
  limit: number;
  cursor?: string;
}

/**
 * What {@link WorkflowService} caches per location for its analyses (JSON: null, not undefined): which workflow
 * versions make up the location, never their definitions. The definitions live once, in their own entries (the
 * per-workflow cache entries and the imported-definitions table), and are read only when an analysis thread has to
 * build the location's context, so the entry's size does not grow with the size of the definitions.
 */
interface LocationContextInputs {
  /** Names this build of the entry: a rebuilt entry (after an import or a refresh) gets a new one. */
  buildId: string;
  /** The workflows with a definition, at the version the context holds; `imported`: read from the imports. */
  refs: { workflowId: string; version: number; imported: boolean }[];
  inventory: LocationInventory | null;
  /** GHL's workflow list; null when the location has no GHL connection. */
  workflows: WorkflowSummary[] | null;
}

function encodeCursor(ts: string, id: string): string {
  return Buffer.from(JSON.stringify([ts, id])).toString('base64url');
}
function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      /^\d{1,19}$/.test(value[1]) &&
      !Number.isNaN(Date.parse(value[0]))
    ) {
      return [value[0], value[1]];
    }
  } catch {
    // fall through
  }
  throw new WorkflowError('VALIDATION_ERROR', 'cursor is not a cursor returned by this endpoint');
}

/** Maps GHL failures to the feature's errors (answered 502/503/504/409), so a GHL outage never looks like our bug. */
function ghlFailure(error: unknown): never {
  if (error instanceof GhlError) {
    if (error.code === 'GHL_RATE_LIMITED' || error.code === 'GHL_DAILY_LIMIT') {
      throw new WorkflowError('GHL_RATE_LIMITED', 'GHL rate limit reached for this location; try again shortly', {
        cause: error,
        retryAfterMs: error.retryAfterMs ?? 10_000,
      });
    }
    if (error.code === 'GHL_TIMEOUT')
      throw new WorkflowError('GHL_TIMEOUT', 'GHL did not answer in time', { cause: error });
    if (error.code === 'GHL_REFRESH_REJECTED' || error.code === 'GHL_UNAUTHORIZED')
      throw new WorkflowError('GHL_RECONNECT_REQUIRED', 'The GHL connection must be renewed: install the app again', {
        cause: error,
      });
    throw new WorkflowError('GHL_UNAVAILABLE', 'GHL could not be reached', { cause: error });
  }
  throw error;
}

/** Workflows, analyses and history of one location at a time: every method takes the caller's location first. */
export interface WorkflowService {
  listWorkflows(locationId: string): Promise<WorkflowListItem[]>;
  getWorkflow(
    locationId: string,
    workflowId: string,
  ): Promise<{ workflow: WorkflowListItem; definition: WorkflowDefinition | null }>;
  importDefinition(locationId: string, input: unknown): Promise<WorkflowListItem>;
  /** `version`: analyse exactly that version (a queued job's), 409 WORKFLOW_VERSION_SUPERSEDED when it is gone. */
  analyze(
    locationId: string,
    input: { workflowId: string; version?: number } | { definition: unknown },
  ): Promise<AnalysisView>;
  getAnalysis(locationId: string, id: string): Promise<AnalysisView>;
  history(
    locationId: string,
    filters: HistoryFilters,
  ): Promise<{
    items: Omit<AnalysisView, 'findings' | 'cached' | 'name' | 'band' | 'analyzerVersion'>[];
    nextCursor: string | null;
    retentionDays: number | null;
  }>;
  locationHealth(locationId: string): Promise<{
    locationId: string;
    score: number | null;
    band: string | null;
    workflows: { workflowId: string; name: string; status: string; score: number; band: string; issuesFound: number }[];
  }>;
  /**
   * The location's workflow list read again from its sources (not the cache), dropping what a version change made
   * stale: the changed workflows' cached entries and the analysis context. Scheduled audits start here.
   */
  refreshWorkflows(locationId: string): Promise<WorkflowListItem[]>;
  /** The location's tier, from the `users` record (cached `user:{locationId}` in the app). */
  tierOf(locationId: string): Promise<Tier>;
}

export function createWorkflowService(options: WorkflowServiceOptions): WorkflowService {
  const { db, ghl, imported, cache } = options;
  const sources = [imported, ...(options.sources ?? [])];
  const observe = (event: AnalysisEvent) => {
    try {
      options.onAnalysis?.(event);
    } catch {
      // Metrics never break an analysis.
    }
  };

  // Read-through; with `wrap` (the app's @org/cache) concurrent misses of a key load once, in any process: the
  // analyses of a batch starting together read each workflow from GHL once.
  const cached = async <T>(key: string, ttl: number, load: () => Promise<T>): Promise<T> => {
    if (!cache) return load();
    if (cache.wrap) return cache.wrap(key, load, ttl);
    const hit = await cache.get<T>(key);
    if (hit !== undefined) return hit;
    const value = await load();
    await cache.set(key, value, ttl);
    return value;
  };

  /** GHL's metadata list; empty for a location without a GHL connection (imported definitions only). */
  const ghlWorkflows = async (locationId: string): Promise<GhlWorkflowSummary[] | undefined> => {
    if (!ghl) return undefined;
    try {
      return await ghl.listWorkflows(locationId);
    } catch (error) {
      if (error instanceof GhlError && error.code === 'GHL_NOT_CONNECTED') return undefined;
      return ghlFailure(error);
    }
  };

  const inventoryOf = async (locationId: string): Promise<LocationInventory | undefined> => {
    if (!ghl) return undefined;
    try {
      return locationInventorySchema.parse(await ghl.inventory(locationId));
    } catch (error) {
      if (error instanceof GhlError && error.code === 'GHL_NOT_CONNECTED') return undefined;
      return ghlFailure(error);
    }
  };

  const definitionOf = async (locationId: string, workflowId: string): Promise<StoredDefinition | undefined> => {
    for (const source of sources) {
      try {
        const found = await source.get(locationId, workflowId);
        if (found) return found;
      } catch (error) {
        ghlFailure(error);
      }
    }
    return undefined;
  };

  /**
   * Everything an analysis of this location reads besides its own workflow, as ids and versions. Cached (10 min) and
   * loaded once for all processes: the other workflows' definitions are read through the per-workflow cache entries
   * `getWorkflow` uses too, so a batch over a location of N workflows costs about N + 8 GHL requests instead of N per
   * analysis.
   */
  const contextOf = async (locationId: string): Promise<LocationContextInputs> => {
    const inputs = await buildContext(locationId);
    if (typeof inputs.buildId === 'string' && Array.isArray(inputs.refs)) return inputs;
    // An entry of another shape (written by an older release during a rolling deploy) is dropped and rebuilt.
    await cache?.delete(CacheKeys.analysisContext(locationId));
    return buildContext(locationId);
  };
  const buildContext = (locationId: string): Promise<LocationContextInputs> =>
    cached(CacheKeys.analysisContext(locationId), CacheTtls.analysisContext, async () => {
      const [list, importedDefs, inventory, remote] = await Promise.all([
        listWorkflows(locationId),
        imported.list(locationId),
        inventoryOf(locationId),
        ghlWorkflows(locationId),
      ]);
      const importedIds = new Set(importedDefs.map((d) => d.workflowId));
      const others = list.filter((w) => w.hasDefinition && !importedIds.has(w.id));
      // Reading the others once here fills their per-workflow entries (and learns which have a definition at all).
      const fetched = await Promise.all(
        others.map(async (w) => (await service.getWorkflow(locationId, w.id)).definition),
      );
      return {
        buildId: randomUUID(),
        refs: [
          ...importedDefs.map((d) => ({ workflowId: d.workflowId, version: d.version, imported: true })),
          ...fetched.flatMap((d, i) =>
            d ? [{ workflowId: others[i]!.id, version: d.version ?? 0, imported: false }] : [],
          ),
        ],
        inventory: inventory ?? null,
        workflows: remote ? remote.map((w) => ({ id: w.id, status: w.status, name: w.name })) : null,
      };
    });

  /** The definitions `inputs` names, read from where they live (imports: one query; others: their cache entries). */
  const definitionsOf = async (locationId: string, inputs: LocationContextInputs): Promise<WorkflowDefinition[]> => {
    const wantsImported = inputs.refs.some((r) => r.imported);
    const latestImports = wantsImported
      ? new Map((await imported.list(locationId)).map((d) => [d.workflowId, d]))
      : new Map<string, StoredDefinition>();
    const found = await Promise.all(
      inputs.refs.map(async (ref) => {
        if (ref.imported) {
          const latest = latestImports.get(ref.workflowId);
          if (latest?.version === ref.version) return latest.definition;
          return (await imported.get(locationId, ref.workflowId, { version: ref.version }))?.definition ?? null;
        }
        return (await service.getWorkflow(locationId, ref.workflowId)).definition;
      }),
    );
    return found.filter((d): d is WorkflowDefinition => d !== null);
  };

  /** The definition at exactly `version`: imports keep every version; other sources only have the latest. */
  const definitionAt = async (locationId: string, workflowId: string, version: number): Promise<WorkflowDefinition> => {
    const exact = await imported.get(locationId, workflowId, { version });
    if (exact) return exact.definition;
    const latest = await definitionOf(locationId, workflowId);
    if (latest && latest.version === version) return latest.definition;
    throw new WorkflowError(
      'WORKFLOW_VERSION_SUPERSEDED',
      `Version ${version} of the workflow is no longer available${latest ? ` (current version: ${latest.version})` : ''}`,
    );
  };

  const listWorkflows = (locationId: string) =>
    cached(CacheKeys.workflows(locationId), CacheTtls.workflows, async () => {
      const [remote, defs] = await Promise.all([ghlWorkflows(locationId), imported.list(locationId)]);
      const items = new Map<string, WorkflowListItem>();
      for (const w of remote ?? []) {
        items.set(w.id, {
          id: w.id,
          name: w.name,
          status: w.status,
          version: w.version,
          updatedAt: w.updatedAt ?? null,
          hasDefinition: options.sources !== undefined && options.sources.length > 0,
          source: 'ghl',
        });
      }
      for (const d of defs) {
        const known = items.get(d.workflowId);
        items.set(d.workflowId, {
          id: d.workflowId,
          name: known?.name ?? d.name,
          status: known?.status ?? d.status,
          version: known ? Math.max(known.version, d.version) : d.version,
          updatedAt: known?.updatedAt ?? (d.definition.updatedAt as string | undefined) ?? null,
          hasDefinition: true,
          source: 'import',
        });
      }
      return [...items.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    });

  const users = options.users ?? { get: (locationId: string) => loadUserRecord(db, locationId) };
  const tierOf = async (locationId: string): Promise<Tier> => (await users.get(locationId))?.tier ?? 'free';

  type AnalysisRow = {
    id: string;
    workflow_id: string;
    workflow_version: number;
    health_score: number;
    issues_found: number;
    findings: Finding[];
    tier: Tier;
    analyzer_version: string | null;
    created_at: Date;
  };
  const view = (row: AnalysisRow, name: string | null, isCached: boolean): AnalysisView => ({
    id: row.id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    name,
    score: row.health_score,
    band: scoreBand(row.health_score),
    issuesFound: row.issues_found,
    findings: row.findings,
    tier: row.tier,
    analyzerVersion: row.analyzer_version ?? 'unknown',
    createdAt: row.created_at.toISOString(),
    cached: isCached,
  });

  // Building a location context walks every definition of the location. Each build of the cached inputs names itself
  // (buildId), so every analysis of a batch, in any process, uses the same key, and each analysis thread reads the
  // definitions and builds the context once per build (it keeps a few, most recent first).
  const runner = options.runner ?? createInThreadRunner();
  const contextKeyOf = (locationId: string, inputs: LocationContextInputs) => `${locationId}:${inputs.buildId}`;
  const contextFor = (
    locationId: string,
    inputs: LocationContextInputs,
    definitions: readonly WorkflowDefinition[],
  ) => ({
    locationId,
    definitions,
    workflows: inputs.workflows ?? [],
    inventory: inputs.inventory ?? undefined,
    workflowsComplete: inputs.workflows !== null,
  });

  /** `stored`: `def` is the stored definition of its version (not one posted inline), so the cached inputs hold it as is. */
  async function runAnalysis(
    locationId: string,
    def: WorkflowDefinition,
    tier: Tier,
    stored: boolean,
  ): Promise<AnalysisView> {
    const started = performance.now();
    const inputs = await contextOf(locationId);
    const workflowId = workflowIdOf(def);
    const own = stored ? inputs.refs.find((r) => r.workflowId === workflowId) : undefined;
    const result =
      own && own.version === (def.version ?? 0)
        ? // The definitions are read only if the thread that runs the analysis does not hold this context yet.
          await runner.workflow(def, contextKeyOf(locationId, inputs), async () =>
            contextFor(locationId, inputs, await definitionsOf(locationId, inputs)),
          )
        : await runner.workflow(
            def,
            undefined,
            contextFor(locationId, inputs, [
              def,
              ...(await definitionsOf(locationId, inputs)).filter((d) => workflowIdOf(d) !== workflowId),
            ]),
          );
    const durationMs = Math.round(performance.now() - started);
    const { rows } = await db.query<AnalysisRow>(INSERT_ANALYSIS_SQL, [
      locationId,
      workflowId,
      def.version ?? 0,
      result.score,
      result.findings.length,
      JSON.stringify(result.findings),
      tier,
      String(ANALYZER_VERSION),
      durationMs,
    ]);
    observe({
      tier,
      status: 'ok',
      durationMs: performance.now() - started,
      score: result.score,
      findings: result.findings,
    });
    return view(rows[0]!, def.name, false);
  }

  const service: WorkflowService = {
    listWorkflows,
    tierOf,
    async refreshWorkflows(locationId) {
      if (!cache) return listWorkflows(locationId);
      await cache.delete(CacheKeys.workflows(locationId));
      const list = await listWorkflows(locationId);
      await Promise.all(
        list.map(async (w) => {
          const entry = await cache.get<{ workflow: WorkflowListItem }>(CacheKeys.workflow(locationId, w.id));
          if (entry && entry.workflow.version !== w.version) await cache.delete(CacheKeys.workflow(locationId, w.id));
        }),
      );
      await cache.delete(CacheKeys.analysisContext(locationId));
      return list;
    },
    async getWorkflow(locationId, workflowId) {
      return cached(CacheKeys.workflow(locationId, workflowId), CacheTtls.workflow, async () => {
        const [list, stored] = await Promise.all([listWorkflows(locationId), definitionOf(locationId, workflowId)]);
        const meta = list.find((w) => w.id === workflowId);
        if (!meta && !stored) throw notFound('Workflow');
        const workflow: WorkflowListItem = meta
          ? { ...meta, hasDefinition: stored !== undefined }
          : {
              id: workflowId,
              name: stored!.name,
              status: stored!.status,
              version: stored!.version,
              updatedAt: null,
              hasDefinition: true,
              source: stored!.source,
            };
        return { workflow, definition: stored?.definition ?? null };
      });
    },
    async importDefinition(locationId, input) {
      let entry: StoredDefinition;
      try {
        entry = await imported.import(locationId, input);
      } catch (error) {
        // A definition naming another location is answered like any other location's resource: 404, no oracle.
        if (error instanceof AnalysisError && error.code === 'LOCATION_MISMATCH') throw notFound('Location');
        throw error;
      }
      if (cache) {
        await Promise.all([
          cache.delete(CacheKeys.workflows(locationId)),
          cache.delete(CacheKeys.workflow(locationId, entry.workflowId)),
          cache.delete(CacheKeys.analysisContext(locationId)),
        ]);
      }
      return {
        id: entry.workflowId,
        name: entry.name,
        status: entry.status,
        version: entry.version,
        updatedAt: (entry.definition.updatedAt as string | undefined) ?? null,
        hasDefinition: true,
        source: 'import',
      };
    },
    async analyze(locationId, input) {
      const started = performance.now();
      const tier = await tierOf(locationId);
      try {
        if ('definition' in input) {
          const def = parseWorkflowDefinition(input.definition);
          if (def.locationId !== locationId) throw notFound('Location');
          return await runAnalysis(locationId, def, tier, false);
        }
        // Through the cached workflow (workflow:{locationId}:{workflowId}): a cache hit of the analysis costs no
        // definition lookup, so repeated analyses never spend the location's GHL request budget.
        let { definition } = await service.getWorkflow(locationId, input.workflowId);
        if (!definition)
          throw new WorkflowError('NOT_FOUND', 'Workflow definition not found: import it with POST /workflows/import');
        // A queued job analyses the version it was queued for, even if the workflow changed meanwhile.
        if (input.version !== undefined && (definition.version ?? 0) !== input.version)
          definition = await definitionAt(locationId, input.workflowId, input.version);
        const stored = { workflowId: input.workflowId, version: definition.version ?? 0, definition };
        const key = CacheKeys.workflowAnalysis(locationId, stored.workflowId, stored.version, ANALYZER_VERSION);
        const hit = cache ? await cache.get<AnalysisView>(key) : undefined;
        if (hit) {
          observe({ tier, status: 'cached', durationMs: performance.now() - started, score: hit.score });
          return { ...hit, cached: true };
        }
        const result = await runAnalysis(locationId, stored.definition, tier, true);
        if (cache) await cache.set(key, result, CacheTtls.analysis);
        return result;
      } catch (error) {
        observe({
          tier,
          status: error instanceof AnalysisError ? 'invalid' : 'error',
          durationMs: performance.now() - started,
        });
        throw error;
      }
    },
    async getAnalysis(locationId, id) {
      if (!/^\d{1,18}$/.test(id)) throw notFound('Analysis');
      // Within the tier's retention, like /history: an older analysis is not found, whichever route asks.
      const retention = retentionDays(await tierOf(locationId));
      const { rows } = await db.read<AnalysisRow>(ANALYSIS_BY_ID_SQL, [id, locationId, retention]);
      if (!rows[0]) throw notFound('Analysis');
      return view(rows[0], null, false);
    },
    async history(locationId, filters) {
      const tier = await tierOf(locationId);
      const retention = retentionDays(tier);
      const [cursorTs, cursorId] = filters.cursor ? decodeCursor(filters.cursor) : [null, null];
      const { rows } = await db.read<AnalysisRow & { cursor_ts: string }>(ANALYSIS_PAGE_SQL, [
        locationId,
        filters.workflowId ?? null,
        filters.from ?? null,
        filters.to ?? null,
        filters.minScore ?? null,
        retention,
        cursorTs,
        cursorId,
        filters.limit + 1,
      ]);
      const page = rows.slice(0, filters.limit);
      // A workflow id the location does not know is answered like any other location's resource: 404.
      if (
        filters.workflowId &&
        page.length === 0 &&
        !filters.cursor &&
        !(await listWorkflows(locationId)).some((w) => w.id === filters.workflowId)
      ) {
        throw notFound('Workflow');
      }
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          id: r.id,
          workflowId: r.workflow_id,
          workflowVersion: r.workflow_version,
          score: r.health_score,
          issuesFound: r.issues_found,
          tier: r.tier,
          createdAt: r.created_at.toISOString(),
        })),
        nextCursor: rows.length > filters.limit && last ? encodeCursor(last.cursor_ts, last.id) : null,
        retentionDays: retention,
      };
    },
    async locationHealth(locationId) {
      const inputs = await contextOf(locationId);
      const result = await runner.location({
        locationId,
        definitions: await definitionsOf(locationId, inputs),
        inventory: inputs.inventory ?? undefined,
        workflows: inputs.workflows ?? [],
        workflowsComplete: inputs.workflows !== null,
      });
      return {
        locationId,
        score: result.score,
        band: result.band,
        workflows: result.workflows.map((w) => ({
          workflowId: w.workflowId,
          name: w.name,
          status: w.status,
          score: w.score,
          band: w.band,
          issuesFound: w.findings.length,
        })),
      };
    },
  };
  return service;
}
