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
  tagTrigger,
  trigger,
  wait,
  workflow,
} from '../test-support.js';

describe('loop.tag-retrigger', () => {
  const steps = chain(sms('s1'), wait('w1', 30), tag('t1', 'Reactivate '));

  it('fires when re-entry is on and a step re-adds the trigger tag (case and spaces ignored)', () => {
    const [finding] = findingsFor(
      'loop.tag-retrigger',
      workflow({ allowMultiple: true, triggers: [tagTrigger('reactivate')], steps }),
    );
    expect(finding).toMatchObject({ severity: 'critical', stepId: 't1' });
  });

  it('does not fire with re-entry off, or when the trigger is inactive, or for another tag', () => {
    expect(firedRules(workflow({ allowMultiple: false, triggers: [tagTrigger('reactivate')], steps }))).not.toContain(
      'loop.tag-retrigger',
    );
    expect(
      firedRules(workflow({ allowMultiple: true, triggers: [tagTrigger('reactivate', { active: false })], steps })),
    ).not.toContain('loop.tag-retrigger');
    expect(firedRules(workflow({ allowMultiple: true, triggers: [tagTrigger('other')], steps }))).not.toContain(
      'loop.tag-retrigger',
    );
  });

  it('fires for the add-to-workflow mechanism: the workflow enrols contacts into itself', () => {
    const def = workflow({
      id: 'wf-self',
      allowMultiple: true,
      steps: chain(sms('s1'), wait('w1'), step('a1', 'add_to_workflow', { workflow_id: 'wf-self' })),
    });
    expect(findingsFor('loop.tag-retrigger', def)).toMatchObject([{ stepId: 'a1' }]);
  });

  it('matches a tag trigger whose value is an array', () => {
    const trig = trigger('contact_tag', [
      { field: 'tagsAdded', operator: 'index-of-true', value: ['vip', 'reactivate'] },
    ]);
    expect(firedRules(workflow({ allowMultiple: true, triggers: [trig], steps }))).toContain('loop.tag-retrigger');
  });
});

describe('loop.field-change-retrigger', () => {
  const changed = (field: string) => trigger('contact_changed', [{ field, operator: 'has-changed' }]);
  const write = (field: string) =>
    step('u1', 'update_contact_field', { actionType: 'update_field_data', fields: [{ field, value: 'x' }] });

  it('fires when a contact_changed trigger watches the field a step writes', () => {
    expect(
      findingsFor(
        'loop.field-change-retrigger',
        workflow({ allowMultiple: true, triggers: [changed('cfA')], steps: chain(sms('s1'), write('cfA')) }),
      ),
    ).toMatchObject([{ severity: 'critical', stepId: 'u1' }]);
  });

  it('matches a field by id against its fieldKey through the inventory', () => {
    const def = workflow({
      allowMultiple: true,
      triggers: [changed('contact.field_a')],
      steps: chain(sms('s1'), write('cfA')),
    });
    expect(firedRules(def)).toContain('loop.field-change-retrigger');
  });

  it('matches standard fields with and without the contact. prefix', () => {
    const def = workflow({
      allowMultiple: true,
      triggers: [changed('contact.email')],
      steps: chain(sms('s1'), write('email')),
    });
    expect(firedRules(def)).toContain('loop.field-change-retrigger');
  });

  it('does not fire for another field or without re-entry', () => {
    expect(
      firedRules(
        workflow({ allowMultiple: true, triggers: [changed('cfA')], steps: chain(sms('s1'), write('phone')) }),
      ),
    ).not.toContain('loop.field-change-retrigger');
    expect(
      firedRules(workflow({ allowMultiple: false, triggers: [changed('cfA')], steps: chain(sms('s1'), write('cfA')) })),
    ).not.toContain('loop.field-change-retrigger');
  });
});

describe('loop.goto-cycle-no-wait', () => {
  it('fires on a go-to cycle without a wait', () => {
    const def = workflow({ steps: chain(sms('s1'), tag('t1', 'x'), gotoStep('g1', 's1')) });
    expect(findingsFor('loop.goto-cycle-no-wait', def)).toMatchObject([{ severity: 'critical', stepId: 'g1' }]);
  });

  it('fires on a go-to that targets itself', () => {
    expect(firedRules(workflow({ steps: [gotoStep('g1', 'g1')] }))).toContain('loop.goto-cycle-no-wait');
  });

  it('fires on a cycle made of next pointers alone', () => {
    const steps = [
      { ...tag('a', 'x'), next: 'b' },
      { ...tag('b', 'y'), next: 'a' },
    ];
    expect(firedRules(workflow({ steps }))).toContain('loop.goto-cycle-no-wait');
  });

  it('does not fire when the loop contains a wait', () => {
    const def = workflow({ steps: chain(sms('s1'), wait('w1', 1), gotoStep('g1', 's1')) });
    expect(firedRules(def)).not.toContain('loop.goto-cycle-no-wait');
  });

  it('reports one finding per workflow even with several cycles', () => {
    const steps = [...chain(sms('s1'), gotoStep('g1', 's1')), ...chain(sms('s2'), gotoStep('g2', 's2'))];
    expect(findingsFor('loop.goto-cycle-no-wait', workflow({ steps }))).toHaveLength(1);
  });
});

describe('loop.cross-workflow', () => {
  const a = (status: 'published' | 'draft' = 'published') =>
    workflow({
      id: 'wf-a',
      name: 'A',
      status,
      triggers: [tagTrigger('hot')],
      steps: chain(sms('a1'), tag('a2', 'nurture')),
    });
  const b = (status: 'published' | 'draft' = 'published') =>
    workflow({
      id: 'wf-b',
      name: 'B',
      status,
      triggers: [tagTrigger('nurture')],
      steps: chain(sms('b1'), tag('b2', 'HOT')),
    });

  it('fires on every published workflow of a tag cycle', () => {
    expect(firedRules(a(), { peers: [b()] })).toContain('loop.cross-workflow');
    expect(firedRules(b(), { peers: [a()] })).toContain('loop.cross-workflow');
  });

  it('fires on an add-to-workflow cycle', () => {
    const x = workflow({ id: 'wf-x', steps: chain(sms('x1'), step('x2', 'add_to_workflow', { workflow_id: 'wf-y' })) });
    const y = workflow({ id: 'wf-y', steps: chain(sms('y1'), step('y2', 'add_to_workflow', { workflow_id: 'wf-x' })) });
    expect(firedRules(x, { peers: [y] })).toContain('loop.cross-workflow');
  });

  it('fires on a mixed three-workflow cycle (tag, add-to-workflow, tag)', () => {
    const x = workflow({
      id: 'wf-x',
      triggers: [tagTrigger('start-x')],
      steps: chain(sms('x1'), tag('x2', 'start-y')),
    });
    const y = workflow({
      id: 'wf-y',
      triggers: [tagTrigger('start-y')],
      steps: chain(sms('y1'), step('y2', 'add_to_workflow', { workflow_id: 'wf-z' })),
    });
    const z = workflow({ id: 'wf-z', triggers: [formTrigger()], steps: chain(sms('z1'), tag('z2', 'start-x')) });
    for (const [self, peers] of [
      [x, [y, z]],
      [y, [x, z]],
      [z, [x, y]],
    ] as const)
      expect(firedRules(self, { peers: [...peers] })).toContain('loop.cross-workflow');
  });

  it('ignores drafts, one-way edges and self-edges', () => {
    expect(firedRules(a(), { peers: [b('draft')] })).not.toContain('loop.cross-workflow');
    expect(firedRules(a('draft'), { peers: [b()] })).not.toContain('loop.cross-workflow');
    const oneWay = workflow({ id: 'wf-b', triggers: [tagTrigger('nurture')], steps: [sms('b1')] });
    expect(firedRules(a(), { peers: [oneWay] })).not.toContain('loop.cross-workflow');
    const self = workflow({ id: 'wf-s', triggers: [tagTrigger('t')], steps: chain(sms('s1'), tag('s2', 't')) });
    expect(firedRules(self)).not.toContain('loop.cross-workflow');
  });

  it('ignores workflows of another location', () => {
    const other = workflow({
      id: 'wf-b',
      locationId: 'elsewhere',
      triggers: [tagTrigger('nurture')],
      steps: chain(sms('b1'), tag('b2', 'hot')),
    });
    expect(firedRules(a(), { peers: [other] })).not.toContain('loop.cross-workflow');
  });
});
