// The per-location analysis context is cached as ids and versions, never as definitions: the definitions live once,
// in their own entries (imports in PostgreSQL, GHL ones in their per-workflow cache entries), and are read only when a
// thread builds the location's context. So the cached entry does not grow with the size of the definitions, and a
// batch reads them once per build and thread. Real PostgreSQL, the real worker-thread pool; the cache is a JSON map
// (what Redis would hold), recording the bytes stored under each key.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeLocation } from '../../../src/analysis/index.js';
import { CacheKeys } from '../../../src/cache/keys.js';
import { createDatabase, type Database } from '../../../src/db/database.js';
import { migrate } from '../../../src/db/migrations.js';
import {
  createImportedDefinitionSource,
  type ImportedDefinitionSource,
} from '../../../src/features/workflows/definition-sources.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createAnalysisPool, type AnalysisRunner } from '../../../src/features/workflows/analysis-pool.js';
import type { WorkflowCache } from '../../../src/features/workflows/cache.js';
import { createWorkflowService, type WorkflowService } from '../../../src/features/workflows/service.js';
import { seedTenant } from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const FIXTURE = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../fakes/ghl/workflows/coaching-hot-lead-alert.json', import.meta.url)),
    'utf8',
  ),
) as Record<string, unknown>;
const K = 8;
const SMALL = 'loc-ctx-small';
const LARGE = 'loc-ctx-large';

/** A JSON cache like Redis: values are stored serialized; `bytes` is the size of each stored value. */
function jsonCache(): WorkflowCache & { bytes: Map<string, number> } {
  const store = new Map<string, string>();
  const bytes = new Map<string, number>();
  return {
    bytes,
    async get<T>(key: string) {
      const raw = store.get(key);
      return raw === undefined ? undefined : (JSON.parse(raw) as T);
    },
    async set(key, value) {
      const raw = JSON.stringify(value);
      store.set(key, raw);
      bytes.set(key, Buffer.byteLength(raw));
    },
    async delete(key) {
      store.delete(key);
      bytes.delete(key);
    },
  };
}

/** The fixture as workflow `i` of `locationId`, with an email step whose body is `padding` characters long. */
function definition(locationId: string, i: number, padding: number): Record<string, unknown> {
  const data = FIXTURE.workflowData as { templates: unknown[] };
  const pad = {
    id: `pad-${i}`,
    type: 'email',
    name: 'Newsletter',
    attributes: { subject: 'News', html: `<p>${'lorem ipsum '.repeat(Math.ceil(padding / 12)).slice(0, padding)}</p>` },
  };
  return {
    ...FIXTURE,
    id: `ctx-size-${i}`,
    _id: `ctx-size-${i}`,
    locationId,
    name: `Workflow ${i}`,
    version: 1 + (i % 3),
    workflowData: { ...data, templates: [...data.templates, pad] },
  };
}

describe.skipIf(!pgUp)('the analysis context holds ids, not definitions', () => {
  let pg: SharedPostgres;
  let db: Database;
  let runner: AnalysisRunner;
  let cache: ReturnType<typeof jsonCache>;
  let service: WorkflowService;
  const reads = { list: 0, get: 0 };

  beforeAll(async () => {
    pg = await sharedPostgres('api_analysis_context_size');
    await migrate({ url: pg.url });
    db = createDatabase({ url: pg.url, logger: createLogger({ level: 'silent' }) });
    await seedTenant(db, SMALL);
    await seedTenant(db, LARGE);
    const real = createImportedDefinitionSource(db);
    // Counts the reads of imported definitions (list: all of a location; get: one).
    const imported: ImportedDefinitionSource = {
      ...real,
      list: (locationId) => (reads.list++, real.list(locationId)),
      get: (locationId, workflowId, options) => (reads.get++, real.get(locationId, workflowId, options)),
    };
    cache = jsonCache();
    runner = createAnalysisPool({ threads: 1, timeBudgetMs: 30_000 });
    service = createWorkflowService({ db, imported, cache, runner });
    for (let i = 0; i < K; i++) {
      await service.importDefinition(SMALL, definition(SMALL, i, 10));
      await service.importDefinition(LARGE, definition(LARGE, i, 50_000));
    }
  }, 60_000);
  afterAll(async () => {
    await runner?.close();
    await db?.close();
    await pg?.cleanup();
  });

  it('the cached context entry is the same size for 50 KB definitions as for tiny ones, and names workflows by id and version', async () => {
    await service.analyze(SMALL, { workflowId: 'ctx-size-0' });
    await service.analyze(LARGE, { workflowId: 'ctx-size-0' });
    const small = cache.bytes.get(CacheKeys.analysisContext(SMALL))!;
    const large = cache.bytes.get(CacheKeys.analysisContext(LARGE))!;
    const definitionsBytes = (await createImportedDefinitionSource(db).list(LARGE)).reduce(
      (n, d) => n + JSON.stringify(d.definition).length,
      0,
    );
    console.info(
      `analysis context entry: ${small} bytes (definitions of ~10 characters of copy), ${large} bytes (${K} definitions of ${definitionsBytes} bytes in all)`,
    );
    expect(definitionsBytes).toBeGreaterThan(K * 50_000);
    // Only the location id differs between the two entries (and the random build id, of fixed length).
    expect(Math.abs(large - small)).toBeLessThanOrEqual(K * 2 + 16);
    expect(large).toBeLessThan(2_000);
    const entry = await cache.get<Record<string, unknown>>(CacheKeys.analysisContext(LARGE));
    expect(Object.keys(entry!).sort()).toEqual(['buildId', 'inventory', 'refs', 'workflows']);
    expect(entry!.refs).toEqual(
      Array.from({ length: K }, (_, i) => ({ workflowId: `ctx-size-${i}`, version: 1 + (i % 3), imported: true })),
    );
  });

  it('an entry of the former shape (whole definitions, as an older release wrote it) is rebuilt, not trusted', async () => {
    const definitions = (await createImportedDefinitionSource(db).list(SMALL)).map((d) => d.definition);
    await cache.set(CacheKeys.analysisContext(SMALL), { definitions, inventory: null, workflows: null }, 600);
    expect((await service.analyze(SMALL, { definition: definition(SMALL, 99, 10) })).workflowId).toBe('ctx-size-99');
    expect(Object.keys((await cache.get<Record<string, unknown>>(CacheKeys.analysisContext(SMALL)))!).sort()).toEqual([
      'buildId',
      'inventory',
      'refs',
      'workflows',
    ]);
  });

  it('a batch over the location reads the definitions once (the thread keeps the built context), with the findings of the whole location', async () => {
    const before = { ...reads };
    const results = await Promise.all(
      Array.from({ length: K }, (_, i) => service.analyze(LARGE, { workflowId: `ctx-size-${i}` })),
    );
    // Each analysis reads its own workflow (getWorkflow: one `get` on a miss) and the shared context entry; the
    // others' definitions are read once for the build (one `list`), not once per analysis.
    expect(reads.list - before.list).toBeLessThanOrEqual(2);
    const definitions = (await createImportedDefinitionSource(db).list(LARGE)).map((d) => d.definition);
    const expected = analyzeLocation({ locationId: LARGE, definitions, workflows: [], workflowsComplete: false });
    const byId = new Map(expected.workflows.map((w) => [w.workflowId, w]));
    for (const r of results)
      expect({ score: r.score, findings: r.findings }).toEqual({
        score: byId.get(r.workflowId)!.score,
        findings: byId.get(r.workflowId)!.findings,
      });
  });
});
