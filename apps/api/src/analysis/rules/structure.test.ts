import { describe, expect, it } from 'vitest';
import {
  chain,
  findingsFor,
  firedRules,
  formTrigger,
  gotoStep,
  sms,
  step,
  tag,
  trigger,
  wait,
  workflow,
  type StepInput,
} from '../test-support.js';

/** An if/else router with its anchors; `yes`/`no` are the first steps of each branch. */
function ifElse(id: string, segments: unknown[], yes?: string, no?: string): StepInput[] {
  return [
    step(
      id,
      'if_else',
      { branches: [{ id: `${id}-yes`, name: 'Yes', segments }] },
      { cat: 'conditions', nodeType: 'condition-node', next: [`${id}-yes`, `${id}-no`] },
    ),
    step(`${id}-yes`, 'if_else', {}, { nodeType: 'branch-yes', parent: id, ...(yes ? { next: yes } : {}) }),
    step(`${id}-no`, 'if_else', { else: true }, { nodeType: 'branch-no', parent: id, ...(no ? { next: no } : {}) }),
  ];
}
const tagCondition = [
  {
    operator: 'and',
    conditions: [
      {
        conditionType: 'contact_detail',
        conditionSubType: 'tags',
        conditionOperator: 'index-of-true',
        conditionValue: ['vip'],
      },
    ],
  },
];

describe('structure.broken-next-pointer', () => {
  it('fires once per step whose next names a missing step, string or array', () => {
    const steps = [{ ...sms('s1'), next: 'gone' }, ...ifElse('c1', tagCondition, 'gone-too')];
    const def = workflow({ steps: [{ ...steps[0]!, next: 'c1' }, ...steps.slice(1)] });
    expect(findingsFor('structure.broken-next-pointer', def)).toMatchObject([
      { stepId: 'c1-yes', severity: 'critical' },
    ]);
    expect(
      findingsFor('structure.broken-next-pointer', workflow({ steps: [{ ...sms('s1'), next: ['s1x'] }] })),
    ).toMatchObject([{ stepId: 's1' }]);
  });

  it('does not fire on an absent, null or empty next', () => {
    expect(firedRules(workflow({ steps: [sms('s1'), { ...sms('s2'), next: '' }] }))).not.toContain(
      'structure.broken-next-pointer',
    );
  });
});

describe('structure.no-trigger', () => {
  it('fires on a published workflow whose only trigger is disabled', () => {
    const def = workflow({ triggers: [formTrigger('form1', { active: false })] });
    expect(findingsFor('structure.no-trigger', def)).toMatchObject([{ severity: 'high' }]);
  });

  it('fires on a published workflow without triggers', () => {
    expect(firedRules(workflow({ triggers: [] }))).toContain('structure.no-trigger');
  });

  it('does not fire on drafts, or when a published workflow of the location enrols it', () => {
    expect(firedRules(workflow({ status: 'draft', triggers: [] }))).not.toContain('structure.no-trigger');
    const enroller = workflow({
      id: 'wf-e',
      steps: chain(sms('e1'), step('e2', 'add_to_workflow', { workflow_id: 'wf-1' })),
    });
    expect(firedRules(workflow({ triggers: [] }), { peers: [enroller] })).not.toContain('structure.no-trigger');
    // A draft enroller does not start anything.
    expect(
      firedRules(workflow({ triggers: [] }), {
        peers: [workflow({ id: 'wf-e', status: 'draft', steps: enroller.workflowData.templates as StepInput[] })],
      }),
    ).toContain('structure.no-trigger');
  });
});

describe('structure.no-actions', () => {
  it('fires when templates is empty', () => {
    expect(findingsFor('structure.no-actions', workflow({ steps: [] }))).toMatchObject([
      { severity: 'high', message: expect.stringContaining('no steps') },
    ]);
  });

  it('does not fire with one step', () => {
    expect(firedRules(workflow({ steps: [tag('t1', 'x')] }))).not.toContain('structure.no-actions');
  });
});

describe('branch.no-conditions', () => {
  it('fires when every branch has no segments or only empty condition lists', () => {
    expect(
      findingsFor('branch.no-conditions', workflow({ steps: ifElse('c1', [], 's2').concat(sms('s2')) })),
    ).toMatchObject([{ stepId: 'c1' }]);
    expect(
      firedRules(workflow({ steps: ifElse('c1', [{ operator: 'and', conditions: [] }], 's2').concat(sms('s2')) })),
    ).toContain('branch.no-conditions');
  });

  it('leaves other routers alone (a conversation AI node has no if/else branches)', () => {
    const router = step(
      'r1',
      'conversation_ai',
      { transitions: [] },
      { cat: 'multi-path', nodeType: 'condition-node', next: ['s2'] },
    );
    const fired = firedRules(workflow({ steps: [router, sms('s2')] }));
    expect(fired).not.toContain('branch.no-conditions');
    expect(fired).not.toContain('branch.empty-branches');
  });

  it('does not fire when a branch has a condition', () => {
    expect(firedRules(workflow({ steps: ifElse('c1', tagCondition, 's2').concat(sms('s2')) }))).not.toContain(
      'branch.no-conditions',
    );
  });
});

describe('structure.goto-invalid-target', () => {
  it('fires on a missing or empty target', () => {
    expect(
      findingsFor('structure.goto-invalid-target', workflow({ steps: chain(sms('s1'), gotoStep('g1', 'deleted')) })),
    ).toMatchObject([{ stepId: 'g1' }]);
    expect(firedRules(workflow({ steps: chain(sms('s1'), gotoStep('g1', '')) }))).toContain(
      'structure.goto-invalid-target',
    );
  });

  it('does not fire on an existing target', () => {
    expect(firedRules(workflow({ steps: chain(sms('s1'), wait('w1'), gotoStep('g1', 's1')) }))).not.toContain(
      'structure.goto-invalid-target',
    );
  });
});

describe('trigger.unfiltered', () => {
  it('fires per active filterable trigger without conditions', () => {
    const def = workflow({
      triggers: [
        trigger('form_submission', [], { id: 'tA' }),
        trigger('contact_tag', [], { id: 'tB' }),
        trigger('contact_created', [], { id: 'tC' }),
      ],
    });
    expect(findingsFor('trigger.unfiltered', def).map((f) => f.triggerId)).toEqual(['tA', 'tB']);
  });

  it('ignores inactive triggers and filtered ones', () => {
    expect(
      firedRules(workflow({ triggers: [trigger('pipeline_stage_updated', [], { active: false }), formTrigger()] })),
    ).not.toContain('trigger.unfiltered');
  });
});

describe('structure.orphan-step', () => {
  it('fires per step unreachable from the trigger target', () => {
    const def = workflow({ steps: [sms('s1'), sms('lonely'), tag('t9', 'x')] });
    expect(findingsFor('structure.orphan-step', def).map((f) => f.stepId)).toEqual(['lonely', 't9']);
  });

  it('counts go-to targets and branch anchors as connected', () => {
    const steps = [...chain(sms('s1'), ...ifElse('c1', tagCondition, 'b1', 'g1')), wait('b1'), gotoStep('g1', 'b1')];
    expect(firedRules(workflow({ steps }))).not.toContain('structure.orphan-step');
  });

  it('uses the first template as the entry when no active trigger names a step', () => {
    const def = workflow({
      triggers: [formTrigger('form1', { targetActionId: 'gone' })],
      steps: [sms('s1'), sms('s2')],
    });
    expect(findingsFor('structure.orphan-step', def).map((f) => f.stepId)).toEqual(['s2']);
  });
});

describe('branch.empty-branches', () => {
  it('fires when neither the yes nor the none branch has a step', () => {
    expect(findingsFor('branch.empty-branches', workflow({ steps: ifElse('c1', tagCondition) }))).toMatchObject([
      { stepId: 'c1', severity: 'medium' },
    ]);
  });

  it('does not fire when any branch continues', () => {
    expect(firedRules(workflow({ steps: [...ifElse('c1', tagCondition, undefined, 's2'), sms('s2')] }))).not.toContain(
      'branch.empty-branches',
    );
  });
});
