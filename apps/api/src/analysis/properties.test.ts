import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeWorkflow, analyzeAccount } from './analyze.js';
import { InvalidDefinitionError } from './errors.js';
import { healthScore } from './score.js';
import { INVENTORY, LOCATION_ID } from './test-support.js';
import { RULES } from './rules/index.js';

/*
 * Random input never crashes the analyzer: anything is either analysed or rejected with
 * InvalidDefinitionError, and every score stays within 0-100.
 */
const STEP_TYPES = [
  'sms',
  'email',
  'wait',
  'if_else',
  'goto',
  'add_contact_tag',
  'add_to_workflow',
  'update_contact_field',
  'webhook',
  'chatgpt',
  'internal_notification',
  'create_opportunity',
  'workflow_goal',
  'assign_user',
  'task-notification',
  'remove_from_workflow',
];
const TRIGGER_TYPES = [
  'contact_tag',
  'form_submission',
  'contact_changed',
  'customer_booked_appointment',
  'appointment',
  'pipeline_stage_updated',
  'inbound_webhook',
  'contact_created',
];

const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'gone', '');
const anyValue = fc.anything({ maxDepth: 3, maxKeys: 4 });
const attribute = fc.dictionary(
  fc.constantFrom(
    'body',
    'html',
    'subject',
    'type',
    'startAfter',
    'targetNodeId',
    'tags',
    'fields',
    'workflow_id',
    'url',
    'promptText',
    'notification',
    'email',
    'branches',
    'segments',
    'pipeline_id',
    'stage_id',
    'user_list',
    'assigned_to',
    'template_id',
    'from_email',
    'appointmentStartAfter',
    'attachments',
  ),
  fc.oneof(
    anyValue,
    fc.constantFrom('time', 'appointment', 'goto', 'http://localhost', 'https://x.test', '{{custom_values.x}}', 'STOP'),
    fc.record({ type: fc.constantFrom('days', 'hours', 'x'), value: fc.oneof(fc.integer(), fc.string()) }),
  ),
  { maxKeys: 5 },
);

const stepArb = fc.record(
  {
    id: ids.filter((s) => s !== ''),
    type: fc.constantFrom(...STEP_TYPES),
    name: fc.string({ maxLength: 12 }),
    nodeType: fc.constantFrom('condition-node', 'branch-yes', 'branch-no'),
    parent: ids,
    next: fc.oneof(ids, fc.array(ids, { maxLength: 3 })),
    attributes: attribute,
  },
  { requiredKeys: ['id', 'type', 'attributes'] },
);

const triggerArb = fc.record({
  id: fc.string({ minLength: 1, maxLength: 4 }),
  type: fc.constantFrom(...TRIGGER_TYPES),
  active: fc.boolean(),
  targetActionId: ids,
  conditions: fc.array(
    fc.record(
      {
        field: fc.constantFrom(
          'tagsAdded',
          'form.id',
          'appointment.calendarId',
          'appointment.status',
          'opportunity.pipelineId',
          'cfA',
          'email',
        ),
        operator: fc.constantFrom('index-of-true', 'has-changed', '=='),
        value: anyValue,
      },
      { requiredKeys: ['field', 'operator'] },
    ),
    { maxLength: 3 },
  ),
});

const hour = fc.integer({ min: 0, max: 23 });
const definitionArb = fc.record({
  id: fc.constantFrom('wf1', 'wf2', 'wf3'),
  locationId: fc.constantFrom(LOCATION_ID, LOCATION_ID, 'constructor', '__proto__'),
  name: fc.string({ maxLength: 20 }),
  status: fc.constantFrom('draft', 'published'),
  allowMultiple: fc.boolean(),
  stopOnResponse: fc.boolean(),
  window: fc.option(
    fc.record({
      days: fc.array(fc.integer({ min: 0, max: 6 })),
      startHour: hour,
      startMinute: fc.integer({ min: 0, max: 59 }),
      endHour: hour,
      endMinute: fc.integer({ min: 0, max: 59 }),
    }),
  ),
  senderAddress: fc.option(fc.record({ fromEmail: fc.string({ maxLength: 5 }) })),
  triggers: fc.array(triggerArb, { maxLength: 3 }),
  workflowData: fc.record({ templates: fc.uniqueArray(stepArb, { selector: (s) => s.id, maxLength: 8 }) }),
});

function analyzeOrReject(input: unknown): number | 'rejected' {
  try {
    return analyzeWorkflow(input).score;
  } catch (error) {
    if (error instanceof InvalidDefinitionError) return 'rejected';
    throw error;
  }
}

describe('analyzer properties', () => {
  it('never crashes on arbitrary JSON: analysed or rejected with InvalidDefinitionError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          definitionArb.map((d) => ({ ...d, triggers: 'broken' })),
          fc.anything(),
        ),
        (input) => {
          const outcome = analyzeOrReject(input);
          expect(outcome === 'rejected' || (outcome >= 0 && outcome <= 100)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('analyses every structurally valid random definition, alone and as a location, within 0-100', () => {
    fc.assert(
      fc.property(fc.array(definitionArb, { minLength: 1, maxLength: 3 }), (defs) => {
        const { workflows, locations } = analyzeAccount(defs, {
          inventory: { locations: { [LOCATION_ID]: INVENTORY, toString: INVENTORY } },
        });
        for (const w of workflows) {
          expect(w.score).toBeGreaterThanOrEqual(0);
          expect(w.score).toBeLessThanOrEqual(100);
          expect(Number.isInteger(w.score)).toBe(true);
          for (const f of w.findings)
            expect(RULES.some((r) => r.id === f.ruleId && r.severity === f.severity)).toBe(true);
        }
        for (const l of locations) expect(l.score === null || (l.score >= 0 && l.score <= 100)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('emits at most one finding per workflow-level rule and per step for step-level rules', () => {
    fc.assert(
      fc.property(definitionArb, (def) => {
        const findings = analyzeWorkflow(def).findings;
        const keys = findings.map((f) => `${f.ruleId}|${f.stepId ?? ''}|${f.triggerId ?? ''}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const rule of RULES.filter((r) => r.granularity === 'workflow'))
          expect(findings.filter((f) => f.ruleId === rule.id).length).toBeLessThanOrEqual(1);
        const stepIds = new Set<string>(def.workflowData.templates.map((s) => s.id));
        for (const f of findings) if (f.stepId !== undefined) expect(stepIds.has(f.stepId)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never raises the score when a finding is added', () => {
    const severity = fc.constantFrom('critical', 'high', 'medium', 'low', 'info') as fc.Arbitrary<
      'critical' | 'high' | 'medium' | 'low' | 'info'
    >;
    const finding = fc.record({ ruleId: fc.constantFrom('a', 'b', 'c'), severity });
    fc.assert(
      fc.property(fc.array(finding, { maxLength: 20 }), finding, (findings, extra) => {
        expect(healthScore([...findings, extra])).toBeLessThanOrEqual(healthScore(findings));
      }),
    );
  });

  it('keeps any list of findings within 0-100 and never above 40 with a critical one', () => {
    const severity = fc.constantFrom('critical', 'high', 'medium', 'low', 'info') as fc.Arbitrary<
      'critical' | 'high' | 'medium' | 'low' | 'info'
    >;
    fc.assert(
      fc.property(
        fc.array(fc.record({ ruleId: fc.constantFrom('a', 'b', 'c'), severity }), { maxLength: 40 }),
        (findings) => {
          const score = healthScore(findings);
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(100);
          if (findings.some((f) => f.severity === 'critical')) expect(score).toBeLessThanOrEqual(40);
        },
      ),
    );
  });
});
