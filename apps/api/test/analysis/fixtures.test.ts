import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeAccount, analyzeLocation, locationInventorySchema, RULES_BY_ID } from '../../src/analysis/index.js';
import { isWorkflowFileName } from '../../src/analysis/cli.js';

/*
 * The fixtures are an executable specification (research/ghl-domain.md §7): the whole folder is
 * one account, and each file must fire every must_fire rule and no must_not_fire rule.
 */
const dir = join(import.meta.dirname, '../../fakes/ghl/workflows');
const read = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const expected = read('expected.json') as Record<string, { must_fire: string[]; must_not_fire: string[] } | string>;
const files = readdirSync(dir).filter(isWorkflowFileName).sort();
const result = analyzeAccount(files.map(read), { inventory: read('_locations.json') });
const byFile = new Map(files.map((f, i) => [f, result.workflows[i]!]));

describe('fixture accuracy (whole folder as one account)', () => {
  it('has an expectation for every workflow file and a workflow for every expectation', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
    expect(
      Object.keys(expected)
        .filter((k) => !k.startsWith('_'))
        .sort(),
    ).toEqual(files);
  });

  it('only names rule ids the analyzer knows', () => {
    for (const entry of Object.values(expected)) {
      if (typeof entry === 'string') continue;
      for (const id of [...entry.must_fire, ...entry.must_not_fire]) expect(RULES_BY_ID.has(id), id).toBe(true);
    }
  });

  describe.each(files)('%s', (file) => {
    const entry = expected[file] as { must_fire: string[]; must_not_fire: string[] };
    const fired = new Set(byFile.get(file)!.findings.map((f) => f.ruleId));

    it('fires every must_fire rule', () => {
      expect(entry.must_fire.filter((id) => !fired.has(id))).toEqual([]);
    });

    it('fires no must_not_fire rule', () => {
      expect(entry.must_not_fire.filter((id) => fired.has(id))).toEqual([]);
    });

    it('fires nothing beyond must_fire (the reference analysis listed every rule it produced)', () => {
      expect([...fired].filter((id) => !entry.must_fire.includes(id))).toEqual([]);
    });
  });

  it('scores the catalog worked examples', () => {
    expect(byFile.get('dental-reactivation-campaign.json')!.score).toBe(0);
    expect(byFile.get('dental-review-request.json')!.score).toBe(40);
    for (const healthy of [
      'dental-appointment-reminders.json',
      'dental-missed-call-text-back.json',
      'dental-new-patient-nurture.json',
    ]) {
      expect(byFile.get(healthy)).toMatchObject({ score: 100, band: 'healthy' });
    }
  });

  it('scores each location', () => {
    expect(result.locations).toHaveLength(3);
    for (const location of result.locations) {
      expect(location.score).not.toBeNull();
      expect(location.score!).toBeGreaterThanOrEqual(0);
      expect(location.score!).toBeLessThanOrEqual(100);
    }
  });
});

describe('inventory from GHL public API responses', () => {
  const api = (name: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/ghl/api', name), 'utf8')) as Record<string, unknown>;
  const locationId = 'pR7kQ2sVx9LmN4tYb3Hc';

  it('accepts the list responses as they come and agrees with _locations.json', () => {
    const fromFolder = (read('_locations.json') as { locations: Record<string, Record<string, unknown>> }).locations[
      locationId
    ]!;
    const inventory = locationInventorySchema.parse({
      ...api(`location-customFields.${locationId}.200.json`),
      ...api(`location-customValues.${locationId}.200.json`),
      ...api(`opportunities-pipelines.${locationId}.200.json`),
      calendars: fromFolder['calendars'],
      users: fromFolder['users'],
      forms: fromFolder['forms'],
    });
    const dental = files.filter((f) => f.startsWith('dental-')).map(read);
    const metadata = api(`workflows-list.${locationId}.200.json`)['workflows'] as {
      id: string;
      status: string;
      name: string;
    }[];
    const viaApi = analyzeLocation({ locationId, definitions: dental, inventory, workflows: metadata });
    const viaFolder = result.locations.find((l) => l.locationId === locationId)!;
    expect(viaApi.workflows.map((w) => [w.workflowId, w.score, w.findings.map((f) => f.ruleId)])).toEqual(
      viaFolder.workflows.map((w) => [w.workflowId, w.score, w.findings.map((f) => f.ruleId)]),
    );
  });
});
