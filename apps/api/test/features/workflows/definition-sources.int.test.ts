// One contract for every WorkflowDefinitionSource: imported definitions (PostgreSQL) and the builder backend (the
// fake GHL's simulated endpoint through the real GHL client).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasSharedPostgres, sharedPostgres, type SharedPostgres } from '@org/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../../src/db/database.js';
import { migrate } from '../../../src/db/migrations.js';
import { createGhlClient } from '../../../src/ghl/client.js';
import {
  createBuilderDefinitionSource,
  createImportedDefinitionSource,
  type WorkflowDefinitionSource,
} from '../../../src/features/workflows/definition-sources.js';
import { fakeLocationsFromFolder, startFakeGhl, type FakeGhl } from '../../../fakes/ghl/server.js';
import { createLogger } from '../../../src/observability/logger.js';
import { seedTenant } from '../../support/app.js';

const pgUp = await hasSharedPostgres();
const FIXTURES = fileURLToPath(new URL('../../../fakes/ghl/workflows', import.meta.url));
const LOC = 'pR7kQ2sVx9LmN4tYb3Hc';
const OTHER = 'Wq3nZ8cRt5YhJ2vKd6Pa';
const locations = fakeLocationsFromFolder(FIXTURES);
const mine = locations[LOC]!.workflows;
const theirs = locations[OTHER]!.workflows;

describe.skipIf(!pgUp)('WorkflowDefinitionSource contract', () => {
  let pg: SharedPostgres;
  let db: Database;
  let fake: FakeGhl;
  const sources: Record<string, () => WorkflowDefinitionSource> = {};

  beforeAll(async () => {
    pg = await sharedPostgres('api_ghl_sources');
    await migrate({ url: pg.url });
    db = createDatabase({ url: pg.url, logger: createLogger({ level: 'silent' }) });
    fake = await startFakeGhl({ locations });
    await seedTenant(db, LOC);
    await seedTenant(db, OTHER);
    const imported = createImportedDefinitionSource(db);
    for (const def of [...mine, ...theirs]) await imported.import(String(def.locationId), def);
    sources.imported = () => imported;
    const tokens: Record<string, string> = {
      [LOC]: fake.grant(LOC).access_token,
      [OTHER]: fake.grant(OTHER).access_token,
    };
    const client = createGhlClient({ baseUrl: fake.url, tokens: async (loc) => tokens[loc] ?? 'none' });
    sources.builder = () => createBuilderDefinitionSource({ client, baseUrl: fake.url });
  });
  afterAll(async () => {
    await fake?.close();
    await db?.close();
    await pg?.cleanup();
  });

  for (const kind of ['imported', 'builder'] as const) {
    describe(kind, () => {
      it('returns the latest definition of a workflow of the location, parsed, with its version', async () => {
        const def = mine[0]!;
        const got = await sources[kind]!().get(LOC, String(def.id));
        expect(got).toMatchObject({ workflowId: def.id, version: def.version, name: def.name, status: def.status });
        expect(got!.definition.workflowData.templates.length).toBe(
          (def.workflowData as { templates: unknown[] }).templates.length,
        );
      });
      it('lists every definition of the location and none of another', async () => {
        const list = await sources[kind]!().list(LOC);
        expect(list.map((d) => d.workflowId).sort()).toEqual(mine.map((d) => String(d.id)).sort());
        expect(list.every((d) => d.definition.locationId === LOC)).toBe(true);
      });
      it('answers undefined for an unknown workflow and for a workflow of another location', async () => {
        expect(await sources[kind]!().get(LOC, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
        expect(await sources[kind]!().get(LOC, String(theirs[0]!.id))).toBeUndefined();
      });
    });
  }

  it('imported: a newer version wins, a re-import of a version replaces it, invalid input lists every problem', async () => {
    const imported = sources.imported!() as ReturnType<typeof createImportedDefinitionSource>;
    const base = JSON.parse(readFileSync(`${FIXTURES}/dental-review-request.json`, 'utf8')) as Record<string, unknown>;
    await imported.import(LOC, { ...base, version: Number(base.version) + 1, name: 'v-next' });
    expect((await imported.get(LOC, String(base.id)))!.name).toBe('v-next');
    await imported.import(LOC, { ...base, version: Number(base.version) + 1, name: 'v-next again' });
    expect((await imported.get(LOC, String(base.id)))!.name).toBe('v-next again');
    await expect(imported.import(LOC, { ...base, status: 'live', workflowData: 3 })).rejects.toMatchObject({
      code: 'INVALID_WORKFLOW_DEFINITION',
      issues: expect.arrayContaining([expect.objectContaining({ path: 'status' })]),
    });
    await expect(imported.import(LOC, { ...base, locationId: OTHER })).rejects.toMatchObject({
      code: 'LOCATION_MISMATCH',
    });
  });
});
