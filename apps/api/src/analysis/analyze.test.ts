import { describe, expect, it } from 'vitest';
import { analyzeAccount, analyzeLocation, analyzeParsed, analyzeWorkflow } from './analyze.js';
import { AnalysisError } from './errors.js';
import { createLocationContext } from './location.js';
import { INVENTORY, LOCATION_ID, chain, sms, step, tag, tagTrigger, wait, workflow } from './test-support.js';

const missingUserStep = () => chain(sms('s1'), step('a1', 'assign_user', { user_list: ['usrGone'] }));

describe('analyzeWorkflow', () => {
  it('returns id, name, status, version, score, band and findings with title and fix', () => {
    const result = analyzeWorkflow(
      workflow({ window: null, steps: chain(sms('s1', 'hello'), wait('w1'), sms('s2', 'again')) }),
    );
    expect(result).toMatchObject({
      workflowId: 'wf-1',
      name: 'Test workflow',
      locationId: LOCATION_ID,
      status: 'published',
      version: 1,
    });
    expect(result.findings[0]).toMatchObject({
      ruleId: 'compliance.sms-no-opt-out',
      severity: 'high',
      title: 'No opt-out language in SMS',
      fix: expect.any(String),
    });
    expect(result.score).toBe(60);
    expect(result.band).toBe('at-risk');
  });

  it('orders findings by catalog number', () => {
    const numbers = analyzeWorkflow(
      workflow({ window: null, steps: [...chain(sms('s1', 'x'), wait('w1'), sms('s2', 'y')), sms('orphan', '')] }),
    ).findings.map((f) => f.ruleId);
    expect(numbers).toEqual([
      'compliance.sms-no-opt-out',
      'timing.no-send-window',
      'message.empty-content',
      'structure.orphan-step',
    ]);
  });

  it('skips inventory and cross-workflow checks without a location', () => {
    expect(analyzeWorkflow(workflow({ steps: missingUserStep() })).findings).toEqual([]);
  });

  it('refuses a location context of another location and unknown rule ids', () => {
    const def = workflow();
    const other = createLocationContext({ locationId: 'elsewhere', definitions: [] });
    expect(() => analyzeParsed(def, { location: other })).toThrow(
      expect.objectContaining({ code: 'LOCATION_MISMATCH' }),
    );
    expect(() => analyzeParsed(def, { rules: ['loop.tag-retrigger', 'no.such-rule'] })).toThrow(AnalysisError);
    expect(() => analyzeParsed(def, { rules: ['no.such-rule'] })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_RULE' }),
    );
  });

  it('runs only the selected rules', () => {
    const def = workflow({ window: null, steps: chain(sms('s1', 'x'), wait('w1'), sms('s2', 'y')) });
    expect(analyzeParsed(def, { rules: ['timing.no-send-window'] }).findings.map((f) => f.ruleId)).toEqual([
      'timing.no-send-window',
    ]);
  });
});

describe('analyzeLocation', () => {
  it('analyses the location with its inventory and weights drafts 0.25 in the location score', () => {
    const published = workflow({ id: 'wf-p', steps: missingUserStep() }); // missing user: 92
    const draft = workflow({ id: 'wf-d', status: 'draft' }); // 100 (info only)
    const result = analyzeLocation({ locationId: LOCATION_ID, definitions: [published, draft], inventory: INVENTORY });
    expect(result.workflows.map((w) => w.score)).toEqual([92, 100]);
    expect(result.score).toBe(Math.round((92 + 0.25 * 100) / 1.25));
    expect(result.band).toBe('healthy');
  });

  it('refuses a definition of another location', () => {
    expect(() =>
      analyzeLocation({
        locationId: LOCATION_ID,
        definitions: [workflow(), workflow({ id: 'x', locationId: 'other' })],
      }),
    ).toThrow(expect.objectContaining({ code: 'LOCATION_MISMATCH' }));
  });

  it('uses workflow metadata without definitions for reference checks', () => {
    const def = workflow({ steps: chain(sms('s1'), step('a1', 'add_to_workflow', { workflow_id: 'wf-meta' })) });
    const withMeta = analyzeLocation({
      locationId: LOCATION_ID,
      definitions: [def],
      workflows: [{ id: 'wf-meta', status: 'draft', name: 'Meta' }],
    });
    expect(withMeta.workflows[0]!.findings.map((f) => f.ruleId)).toEqual(['reference.draft-workflow']);
    expect(withMeta.workflows[0]!.findings[0]!.message).toContain('"Meta"');
  });
});

describe('analyzeAccount', () => {
  it('groups workflows by location, keeps input order, and checks references only where an inventory exists', () => {
    const a1 = workflow({
      id: 'a1',
      locationId: 'locA',
      allowMultiple: true,
      triggers: [tagTrigger('x')],
      steps: chain(sms('s1'), tag('t', 'y')),
    });
    const b1 = workflow({ id: 'b1', locationId: 'locB', steps: missingUserStep() });
    const a2 = workflow({
      id: 'a2',
      locationId: 'locA',
      allowMultiple: true,
      triggers: [tagTrigger('y')],
      steps: chain(sms('s1'), tag('t', 'x')),
    });
    const result = analyzeAccount([a1, b1, a2], { inventory: { locations: { locB: INVENTORY } } });
    expect(result.workflows.map((w) => w.workflowId)).toEqual(['a1', 'b1', 'a2']);
    expect(result.locations.map((l) => l.locationId)).toEqual(['locA', 'locB']);
    expect(result.workflows[0]!.findings.map((f) => f.ruleId)).toContain('loop.cross-workflow');
    expect(result.workflows[1]!.findings.map((f) => f.ruleId)).toEqual(['reference.missing-user']);
  });

  it('validates the inventory', () => {
    expect(() => analyzeAccount([workflow()], { inventory: { locations: [] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_INVENTORY' }),
    );
  });
});
