// The workflow service's per-location analysis context and version pinning, against the fake GHL (builder source
// through the real GHL client) and the real @org/cache:
// - a location of N workflows analysed N times at once costs about N GHL requests (each definition once, the list
//   and the inventory once), not N per analysis, and gives exactly exactly the analyzer's findings;
// - a queued job analyses the version it was queued for, or fails for good when that version is gone.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCache, type Cache } from '@org/cache';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeLocation, locationInventorySchema } from '../../../src/analysis/index.js';
import { createDatabase, type Database } from '../../../src/db/database.js';
import { migrate } from '../../../src/db/migrations.js';
import { createGhlClient } from '../../../src/ghl/client.js';
import {
  createBuilderDefinitionSource,
  createImportedDefinitionSource,
} from '../../../src/features/workflows/definition-sources.js';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../../fakes/ghl/server.js';
import { PermanentJobError } from '../../../src/jobs/index.js';
import { analysisProcessor } from '../../../src/features/workflows/analysis-job.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createWorkflowService, type WorkflowService } from '../../../src/features/workflows/service.js';
import { seedTenant } from '../../support/app.js';
import { toHttpError } from '../../../src/http/error-handler.js';

const pgUp = await hasSharedPostgres();
const FIXTURES = fileURLToPath(new URL('../../../fakes/ghl/workflows', import.meta.url));
const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';
const fixtures = fakeLocationsFromFolder(FIXTURES);
const N = 30;
const FIXTURE = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../fakes/ghl/workflows/coaching-hot-lead-alert.json', import.meta.url)),
    'utf8',
  ),
) as Record<string, unknown>;

describe.skipIf(!pgUp)('workflow service: per-location analysis context and version pinning', () => {
  let pg: SharedPostgres;
  let db: Database;
  let fake: FakeGhl;
  let cache: Cache;
  let cached: WorkflowService;
  let workflows: Record<string, unknown>[] = [];

  beforeAll(async () => {
    pg = await sharedPostgres('api_analysis_context');
    await migrate({ url: pg.url });
    db = createDatabase({ url: pg.url, logger: createLogger({ level: 'silent' }) });
    // N variations of the location's own workflows (ids and versions of our own), so references between them stay real.
    const own = fixtures[LOC]!.workflows;
    workflows = Array.from({ length: N }, (_, i) => ({
      ...own[i % own.length]!,
      id: `ctx-wf-${i}`,
      _id: `ctx-wf-${i}`,
      name: `Workflow ${i}`,
      version: 1 + (i % 4),
    }));
    fake = await startFakeGhl({ locations: { [LOC]: { ...fixtures[LOC]!, workflows } } });
    await seedTenant(db, LOC);
    const token = fake.grant(LOC).access_token;
    const client = createGhlClient({ baseUrl: fake.url, tokens: async () => token });
    const imported = createImportedDefinitionSource(db);
    const sources = [createBuilderDefinitionSource({ client, baseUrl: fake.url })];
    cache = createCache({ prefix: 'analysis-context-test' });
    cached = createWorkflowService({ db, ghl: client, imported, sources, cache });
  });
  afterAll(async () => {
    await cache?.close();
    await fake?.close();
    await db?.close();
    await pg?.cleanup();
  });

  const requestsOf = (loc: string) => fake.stats.requests.get(loc)?.length ?? 0;

  it(`${N} concurrent analyses of a ${N}-workflow location cost about N GHL requests, with exactly the analyzer's findings`, async () => {
    const ids = Array.from({ length: N }, (_, i) => `ctx-wf-${i}`);
    const before = requestsOf(LOC);
    const results = await Promise.all(ids.map((workflowId) => cached.analyze(LOC, { workflowId })));
    const spent = requestsOf(LOC) - before;
    // Each definition once, GHL's list once or twice (the workflow list and the context), the six inventory lists once.
    // Without the shared context every analysis would read every definition again: N * (N + 8) = 1140.
    expect(spent).toBeGreaterThanOrEqual(N);
    expect(spent).toBeLessThanOrEqual(N + 10);

    // A second round costs nothing more (cached analyses).
    await Promise.all(ids.map((workflowId) => cached.analyze(LOC, { workflowId })));
    expect(requestsOf(LOC) - before).toBe(spent);
    // And the shared context finds exactly what the analyzer finds given the whole location at once.
    const expected = analyzeLocation({
      locationId: LOC,
      definitions: workflows,
      inventory: locationInventorySchema.parse(fixtures[LOC]!.inventory),
      workflows: workflows.map((w) => ({ id: String(w.id), status: String(w.status), name: String(w.name) })),
      workflowsComplete: true,
    });
    // (Messages that name several workflows name them in a stable order, whatever order the definitions were read in.)
    expect(results.map((r) => ({ score: r.score, findings: r.findings }))).toEqual(
      expected.workflows.map((w) => ({ score: w.score, findings: w.findings })),
    );
    expect(results.some((r) => r.findings.some((f) => f.ruleId === 'trigger.conflicting-workflows'))).toBe(true);
    // The location score reads the same context.
    const health = await cached.locationHealth(LOC);
    expect(health.workflows).toHaveLength(N);
  });

  it('an import drops the cached context: the next analysis sees the new workflow', async () => {
    const id = 'ctx-imported-late';
    const health = await cached.locationHealth(LOC);
    expect(health.workflows.some((w) => w.workflowId === id)).toBe(false);
    await cached.importDefinition(LOC, {
      ...FIXTURE,
      id,
      _id: id,
      locationId: LOC,
      name: 'Imported later',
      version: 1,
    });
    expect((await cached.locationHealth(LOC)).workflows.some((w) => w.workflowId === id)).toBe(true);
  });

  it('analyses exactly the queued version; a version that is gone fails the job for good (409 WORKFLOW_VERSION_SUPERSEDED)', async () => {
    const id = 'ctx-pinned';
    for (const version of [1, 2])
      await cached.importDefinition(LOC, {
        ...FIXTURE,
        id,
        _id: id,
        locationId: LOC,
        name: `Pinned v${version}`,
        version,
      });
    expect((await cached.analyze(LOC, { workflowId: id })).workflowVersion).toBe(2);
    // A job queued for version 1 before version 2 arrived still analyses version 1 (imports keep every version).
    expect((await cached.analyze(LOC, { workflowId: id, version: 1 })).workflowVersion).toBe(1);
    // The service throws its domain error; the API's error catalog answers it with 409.
    const gone = await cached.analyze(LOC, { workflowId: id, version: 7 }).catch((error: unknown) => error);
    expect(gone).toMatchObject({ name: 'WorkflowError', code: 'WORKFLOW_VERSION_SUPERSEDED' });
    expect(toHttpError(gone).status).toBe(409);

    // From GHL only the latest version exists: an older one is gone.
    const ghlWorkflow = 'ctx-wf-3';
    const current = (await cached.getWorkflow(LOC, ghlWorkflow)).workflow.version;
    await expect(cached.analyze(LOC, { workflowId: ghlWorkflow, version: current - 1 })).rejects.toMatchObject({
      code: 'WORKFLOW_VERSION_SUPERSEDED',
    });

    // The job body maps it to a permanent failure (no retries for a version that cannot come back).
    const processor = analysisProcessor(cached, { db });
    const context = { attempt: 1, queuedAt: Date.now(), progress: async () => undefined };
    await expect(
      processor({ locationId: LOC, workflowId: ghlWorkflow, version: current - 1 }, context),
    ).rejects.toBeInstanceOf(PermanentJobError);
    expect(await processor({ locationId: LOC, workflowId: id, version: 1 }, context)).toMatchObject({
      workflowId: id,
      workflowVersion: 1,
    });
  });
});
