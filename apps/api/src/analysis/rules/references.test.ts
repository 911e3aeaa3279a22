import { describe, expect, it } from 'vitest';
import { chain, findingsFor, firedRules, sms, step, trigger, workflow } from '../test-support.js';

describe('reference.missing-workflow', () => {
  const enrol = (workflow_id: unknown, type = 'add_to_workflow') => step('a1', type, { workflow_id });

  it('fires on an empty workflow id, even without knowing the location', () => {
    expect(
      findingsFor('reference.missing-workflow', workflow({ steps: chain(sms('s1'), enrol('')) }), { inventory: null }),
    ).toMatchObject([{ stepId: 'a1' }]);
  });

  it('fires on a remove-from-workflow target that is not in the location', () => {
    expect(firedRules(workflow({ steps: chain(sms('s1'), enrol('wf-gone', 'remove_from_workflow')) }))).toContain(
      'reference.missing-workflow',
    );
  });

  it('does not fire for an existing target, or when the location list is incomplete', () => {
    const target = workflow({ id: 'wf-t' });
    expect(firedRules(workflow({ steps: chain(sms('s1'), enrol('wf-t')) }), { peers: [target] })).not.toContain(
      'reference.missing-workflow',
    );
    expect(
      firedRules(workflow({ steps: chain(sms('s1'), enrol('wf-gone')) }), { workflowsComplete: false }),
    ).not.toContain('reference.missing-workflow');
  });
});

describe('reference.draft-workflow', () => {
  it('fires when the add-to-workflow target is a draft', () => {
    const draft = workflow({ id: 'wf-d', status: 'draft' });
    expect(
      findingsFor(
        'reference.draft-workflow',
        workflow({ steps: chain(sms('s1'), step('a1', 'add_to_workflow', { workflow_id: 'wf-d' })) }),
        { peers: [draft] },
      ),
    ).toMatchObject([{ stepId: 'a1', severity: 'medium' }]);
  });
  it('does not fire for a published target', () => {
    expect(
      firedRules(workflow({ steps: chain(sms('s1'), step('a1', 'add_to_workflow', { workflow_id: 'wf-p' })) }), {
        peers: [workflow({ id: 'wf-p' })],
      }),
    ).not.toContain('reference.draft-workflow');
  });
});

describe('reference.missing-custom-field', () => {
  const update = (field: string) => step('u1', 'update_contact_field', { fields: [{ field, value: 'x' }] });
  const condition = (sub: string) =>
    step(
      'c1',
      'if_else',
      {
        branches: [
          {
            id: 'b',
            segments: [
              {
                conditions: [
                  {
                    conditionType: 'contact_detail',
                    conditionSubType: sub,
                    conditionOperator: '==',
                    conditionValue: 1,
                  },
                ],
              },
            ],
          },
        ],
      },
      {
        nodeType: 'condition-node',
      },
    );

  it('fires on a written field, an if/else field and a field-change trigger field that do not exist', () => {
    const def = workflow({
      triggers: [trigger('contact_changed', [{ field: 'cfDeleted', operator: 'has-changed' }], { id: 'tc' })],
      steps: chain(sms('s1'), update('contact.deleted_field'), condition('cfGone')),
    });
    const found = findingsFor('reference.missing-custom-field', def);
    expect(found.map((f) => f.triggerId ?? f.stepId)).toEqual(['tc', 'u1', 'c1']);
  });

  it('accepts custom field ids and keys, standard fields bare or prefixed, and tag conditions', () => {
    const def = workflow({
      steps: chain(
        sms('s1'),
        update('cfA'),
        { ...update('contact.field_a'), id: 'u2' },
        { ...update('first_name'), id: 'u3' },
        { ...update('contact.phone'), id: 'u4' },
        condition('tags'),
      ),
    });
    expect(firedRules(def)).not.toContain('reference.missing-custom-field');
  });

  it('skips inactive triggers and locations without an inventory', () => {
    const def = workflow({
      triggers: [trigger('contact_changed', [{ field: 'cfDeleted', operator: 'has-changed' }], { active: false })],
      steps: chain(sms('s1'), update('cfGone')),
    });
    expect(findingsFor('reference.missing-custom-field', def).map((f) => f.stepId)).toEqual(['u1']);
    expect(firedRules(def, { inventory: null })).not.toContain('reference.missing-custom-field');
  });
});

describe('reference.missing-pipeline', () => {
  const opp = (pipeline_id: string, stage_id: string) =>
    step('o1', 'create_opportunity', { pipeline_id, stage_id, opportunity_name: 'x' });
  it.each([
    ['a deleted stage', opp('pip1', 'stgGone')],
    ['a stage of another pipeline', opp('pip1', 'stg2')],
    ['a deleted pipeline', opp('pipGone', 'stg1')],
    ['an empty pipeline', opp('', 'stg1')],
  ])('fires on %s', (_name, s) => {
    expect(findingsFor('reference.missing-pipeline', workflow({ steps: chain(sms('s1'), s) }))).toMatchObject([
      { stepId: 'o1' },
    ]);
  });

  it('fires on a stage-changed trigger naming a deleted stage', () => {
    const t = trigger('pipeline_stage_updated', [
      { field: 'opportunity.pipelineId', operator: '==', value: 'pip2' },
      { field: 'opportunity.pipelineStageId', operator: '==', value: 'stg1' },
    ]);
    expect(findingsFor('reference.missing-pipeline', workflow({ triggers: [t] }))).toHaveLength(1);
  });

  it('accepts matching pipeline and stage', () => {
    const t = trigger('pipeline_stage_updated', [
      { field: 'opportunity.pipelineStageId', operator: '==', value: 'stg2' },
    ]);
    expect(firedRules(workflow({ triggers: [t], steps: chain(sms('s1'), opp('pip2', 'stg2')) }))).not.toContain(
      'reference.missing-pipeline',
    );
  });
});

describe('reference.missing-calendar', () => {
  it('fires on a booking trigger, an appointment condition and a goal naming deleted calendars', () => {
    const t = trigger(
      'customer_booked_appointment',
      [{ field: 'appointment.calendarId', operator: 'is-any-of', value: ['cal1', 'calGone'] }],
      { id: 'tb' },
    );
    const cond = step(
      'c1',
      'if_else',
      {
        branches: [
          {
            id: 'b',
            segments: [
              { conditions: [{ conditionType: 'appointment', conditionSubType: 'status', calendarId: 'calOld' }] },
            ],
          },
        ],
      },
      { nodeType: 'condition-node' },
    );
    const goal = step('g1', 'workflow_goal', {
      segments: [{ conditions: [{ goal_condition: 'appointment_booked', extras: { calendarIds: ['calX'] } }] }],
      action: 'exit',
    });
    const found = findingsFor(
      'reference.missing-calendar',
      workflow({ triggers: [t], steps: chain(sms('s1'), cond, goal) }),
    );
    expect(found.map((f) => f.triggerId ?? f.stepId)).toEqual(['tb', 'c1', 'g1']);
  });
  it('accepts existing calendars', () => {
    const t = trigger('customer_booked_appointment', [
      { field: 'appointment.calendarId', operator: 'is-any-of', value: ['cal1'] },
    ]);
    expect(firedRules(workflow({ triggers: [t] }))).not.toContain('reference.missing-calendar');
  });
});

describe('reference.missing-user', () => {
  it('fires on deactivated and unknown users in assign, task and notification steps', () => {
    const steps = chain(
      sms('s1'),
      step('a1', 'assign_user', { user_list: ['usr1', 'usrGone'] }),
      step('t1', 'task-notification', { title: 'Call', body: 'x', assigned_to: 'usrUnknown' }),
      step('n1', 'internal_notification', { type: 'email', email: { user_ids: ['usrGone'], subject: 's', body: 'b' } }),
      step('n2', 'internal_notification', { notification: { title: 't', body: 'b', userIds: ['usr1'] } }),
    );
    expect(findingsFor('reference.missing-user', workflow({ steps })).map((f) => f.stepId)).toEqual(['a1', 't1', 'n1']);
  });
});

describe('content.unknown-custom-value', () => {
  it('fires per step with an unknown custom value anywhere in its attributes', () => {
    const steps = chain(
      sms('s1', 'Book: {{custom_values.booking_link}} code {{ custom_values.promo_code }} STOP'),
      step('w1', 'webhook', {
        url: 'https://hooks.clinic.test',
        customData: [{ key: 'k', value: '{{custom_values.api_key}}' }],
      }),
    );
    expect(findingsFor('content.unknown-custom-value', workflow({ steps })).map((f) => f.stepId)).toEqual(['s1', 'w1']);
  });
  it('accepts known keys', () => {
    expect(firedRules(workflow({ steps: [sms('s1', '{{custom_values.booking_link}} Reply STOP')] }))).not.toContain(
      'content.unknown-custom-value',
    );
  });
});

describe('reference.missing-form (extension)', () => {
  it('fires on a form trigger naming a deleted form', () => {
    const t = trigger('form_submission', [{ field: 'form.id', operator: 'is-any-of', value: ['formGone'] }]);
    expect(findingsFor('reference.missing-form', workflow({ triggers: [t] }))).toMatchObject([{ severity: 'high' }]);
    expect(firedRules(workflow())).not.toContain('reference.missing-form');
  });
});

describe('webhook.insecure-url and webhook.invalid-url', () => {
  const hook = (url: unknown) => workflow({ steps: chain(sms('s1'), step('h1', 'webhook', { method: 'POST', url })) });
  it.each(['http://hooks.clinic.test/x', 'http://8.8.8.8/hook', 'http://api.example.co/x'])(
    '%s is insecure, not invalid',
    (url) => {
      const fired = firedRules(hook(url));
      expect(fired).toContain('webhook.insecure-url');
      expect(fired).not.toContain('webhook.invalid-url');
    },
  );
  it.each([
    '',
    'not a url',
    'ftp://files.clinic.test/x',
    'https://localhost:8443/x',
    'http://127.0.0.1/x',
    'https://10.1.2.3/x',
    'https://172.20.0.1/x',
    'https://192.168.1.10/x',
    'https://[::1]/x',
    'https://[fd00::1]/x',
    'https://[::ffff:127.0.0.1]/x',
    'https://example.com/hook',
    'https://api.example.org/hook',
    'https://your-server.com/hook',
    'https://intranet/hook',
  ])('"%s" is invalid, and never also insecure', (url) => {
    const fired = firedRules(hook(url));
    expect(fired).toContain('webhook.invalid-url');
    expect(fired).not.toContain('webhook.insecure-url');
  });
  it.each([
    'https://hooks.clinic.test/x',
    'https://myexample.com/x',
    '{{custom_values.hook_url}}',
    'https://hooks.zapier.com/{{contact.id}}',
  ])('"%s" passes both', (url) => {
    const fired = firedRules(hook(url));
    expect(fired).not.toContain('webhook.invalid-url');
    expect(fired).not.toContain('webhook.insecure-url');
  });
});
