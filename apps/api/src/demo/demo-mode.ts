// Demo mode: development without GHL credentials. Our fake GHL server runs in-process with the fixture workflows, the
// app talks to it exactly as to GHL (OAuth tokens, rate limits, the simulated builder endpoint), and one demo location
// is seeded with a real token pair from the fake, so every route works at once.
// This file is the only one in src/ that reaches into fakes/: the fake loads on demand (a dynamic import), so a
// production start never loads it, and the build emits it as a chunk of its own next to dist/main.js.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '../db/database.js';
import type { FakeGhl } from '../../fakes/ghl/server.js';
import type { TokenStore } from '../ghl/token-store.js';
import { upsertAccountAndLocation } from '../routes/auth-ghl.js';

/** The location a demo login signs into. */
export interface DemoLocation {
  accountId: string;
  locationId: string;
  name: string;
}

/** The fixture location the demo signs into (a dental clinic with 5 workflows, some broken). */
export const DEMO_LOCATION_ID = 'pR7kQ2sVx9LmN4tYb3Hc';

export const DEMO_CLIENT = { clientId: 'demo-client-id', clientSecret: 'demo-client-secret' } as const;

export type { FakeGhl };

/** The package folder (apps/api): the nearest folder with a package.json, from src/demo/ or from the bundle in dist/. */
function packageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The demo's workflows and inventory: what the fake GHL serves (fakes/ghl/workflows). */
export function demoWorkflowsDir(): string {
  return join(packageDir(), 'fakes/ghl/workflows');
}

/** Starts the fake GHL (127.0.0.1, random port) with the fixture folder's workflows and inventory. */
export async function startDemoGhl(fixturesDir: string = demoWorkflowsDir()): Promise<FakeGhl> {
  const { fakeLocationsFromFolder, startFakeGhl } = await import('../../fakes/ghl/server.js');
  return startFakeGhl({ locations: fakeLocationsFromFolder(fixturesDir), ...DEMO_CLIENT });
}

/** Seeds the demo account and location and stores a token pair issued by the fake (idempotent across restarts). */
export async function seedDemo(options: {
  db: Database;
  tokens: TokenStore;
  fake: FakeGhl;
  name?: string;
}): Promise<DemoLocation> {
  const name = options.name ?? 'Brightside Family Dental (demo)';
  const grant = options.fake.grant(DEMO_LOCATION_ID);
  const accountId = await options.db.transaction(async (q) => {
    const id = await upsertAccountAndLocation(q, { companyId: 'demo-company', locationId: DEMO_LOCATION_ID, name });
    await options.tokens.save(q, { ...grant, locationId: DEMO_LOCATION_ID });
    return id;
  });
  return { accountId, locationId: DEMO_LOCATION_ID, name };
}
