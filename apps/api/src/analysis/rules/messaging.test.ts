import { describe, expect, it } from 'vitest';
import {
  chain,
  email,
  findingsFor,
  firedRules,
  formTrigger,
  sms,
  step,
  tagTrigger,
  trigger,
  wait,
  workflow,
} from '../test-support.js';

const noStop = (id: string) => sms(id, 'Hi {{contact.first_name}}, book your visit this week.');

describe('compliance.sms-no-opt-out', () => {
  it('fires when no SMS body has opt-out language, once per workflow', () => {
    expect(
      findingsFor('compliance.sms-no-opt-out', workflow({ steps: chain(noStop('s1'), noStop('s2')) })),
    ).toMatchObject([{ severity: 'high', stepId: 's1' }]);
  });

  it('fires when the only SMS is blank', () => {
    expect(firedRules(workflow({ steps: [sms('s1', '   ')] }))).toContain('compliance.sms-no-opt-out');
  });

  it.each(['Reply STOP to end', 'text stop', 'to opt-out reply', 'optout anytime', 'Unsubscribe: reply U'])(
    'accepts "%s" in any SMS, reachable or not',
    (text) => {
      expect(firedRules(workflow({ steps: [noStop('s1'), sms('s2', text)] }))).not.toContain(
        'compliance.sms-no-opt-out',
      );
    },
  );

  it('does not match "stop" inside another word, and ignores workflows without SMS', () => {
    expect(firedRules(workflow({ steps: [sms('s1', 'Nonstop deals!')] }))).toContain('compliance.sms-no-opt-out');
    expect(firedRules(workflow({ steps: [email('e1')] }))).not.toContain('compliance.sms-no-opt-out');
  });
});

describe('timing.no-send-window', () => {
  it('fires when an SMS follows a reachable wait and there is no window', () => {
    expect(
      findingsFor(
        'timing.no-send-window',
        workflow({ window: null, steps: chain(sms('s1'), wait('w1'), email('e1'), sms('s2')) }),
      ),
    ).toMatchObject([{ stepId: 's2' }]);
  });

  it('does not fire for an SMS before any wait, an unreachable wait, or with a window', () => {
    expect(firedRules(workflow({ window: null, steps: chain(sms('s1'), wait('w1')) }))).not.toContain(
      'timing.no-send-window',
    );
    expect(firedRules(workflow({ window: null, steps: [sms('s1'), ...chain(wait('w9'), sms('s9'))] }))).not.toContain(
      'timing.no-send-window',
    );
    expect(firedRules(workflow({ steps: chain(sms('s1'), wait('w1'), sms('s2')) }))).not.toContain(
      'timing.no-send-window',
    );
  });
});

describe('timing.reminder-elapsed-wait', () => {
  const booked = trigger('customer_booked_appointment', [
    { field: 'appointment.calendarId', operator: 'is-any-of', value: ['cal1'] },
  ]);
  const statusTrigger = (value: unknown) =>
    trigger('appointment', [
      { field: 'appointment.calendarId', operator: 'is-any-of', value: ['cal1'] },
      { field: 'appointment.status', operator: '==', value },
    ]);
  const steps = chain(sms('s1'), wait('w1', 1), sms('s2'));

  it('fires on a booking trigger with time waits and "remind" in a name, case-insensitive', () => {
    expect(firedRules(workflow({ name: 'Appointment REMINDERS', triggers: [booked], steps }))).toContain(
      'timing.reminder-elapsed-wait',
    );
    expect(
      firedRules(
        workflow({
          name: 'Flow',
          triggers: [statusTrigger(['Confirmed'])],
          steps: chain(sms('s1'), { ...wait('w1'), name: 'Remind later' }, sms('s2')),
        }),
      ),
    ).toContain('timing.reminder-elapsed-wait');
  });

  it('does not fire for a non-booking status, with an appointment wait, or without "remind"', () => {
    expect(firedRules(workflow({ name: 'Reminder', triggers: [statusTrigger('showed')], steps }))).not.toContain(
      'timing.reminder-elapsed-wait',
    );
    const anchored = step('w2', 'wait', {
      type: 'appointment',
      startAfter: {},
      appointmentStartAfter: { when: 'before', type: 'minutes', value: 60 },
    });
    expect(
      firedRules(
        workflow({ name: 'Reminder', triggers: [booked], steps: chain(sms('s1'), wait('w1'), anchored, sms('s2')) }),
      ),
    ).not.toContain('timing.reminder-elapsed-wait');
    expect(firedRules(workflow({ name: 'Booking follow-up', triggers: [booked], steps }))).not.toContain(
      'timing.reminder-elapsed-wait',
    );
    expect(
      firedRules(workflow({ name: 'Reminder', triggers: [{ ...booked, active: false }, formTrigger()], steps })),
    ).not.toContain('timing.reminder-elapsed-wait');
  });
});

describe('message.empty-content', () => {
  it('fires on a blank SMS and on an email with no template and only empty markup', () => {
    const def = workflow({ steps: chain(sms('ok'), sms('s1', ' '), email('e1', { html: '<p>&nbsp;</p><br/>' })) });
    expect(findingsFor('message.empty-content', def).map((f) => f.stepId)).toEqual(['s1', 'e1']);
  });

  it('accepts an email template and an attachment-only SMS', () => {
    const def = workflow({
      steps: chain(
        sms('ok'),
        email('e1', { html: '', template_id: 'tpl1' }),
        step('m1', 'sms', { body: '', attachments: ['https://x.test/a.png'] }),
      ),
    });
    expect(firedRules(def)).not.toContain('message.empty-content');
  });
});

describe('email.missing-subject', () => {
  it('fires on a blank subject without a template', () => {
    expect(findingsFor('email.missing-subject', workflow({ steps: [email('e1', { subject: '  ' })] }))).toMatchObject([
      { stepId: 'e1' },
    ]);
  });
  it('does not fire with a template', () => {
    expect(firedRules(workflow({ steps: [email('e1', { subject: '', template_id: 'tpl' })] }))).not.toContain(
      'email.missing-subject',
    );
  });
});

describe('timing.window-outside-tcpa-hours', () => {
  const win = (startHour: number, endHour: number, endMinute = 0) => ({
    days: [1],
    startHour,
    startMinute: 0,
    endHour,
    endMinute,
  });
  it('fires for a start before 08:00 or an end after 21:00', () => {
    expect(firedRules(workflow({ window: win(7, 20) }))).toContain('timing.window-outside-tcpa-hours');
    expect(firedRules(workflow({ window: win(9, 21, 30) }))).toContain('timing.window-outside-tcpa-hours');
  });
  it('accepts exactly 08:00-21:00 and no window', () => {
    expect(firedRules(workflow({ window: win(8, 21) }))).not.toContain('timing.window-outside-tcpa-hours');
    expect(firedRules(workflow({ window: null }))).not.toContain('timing.window-outside-tcpa-hours');
  });
});

describe('timing.back-to-back-messages', () => {
  it('fires per first message of a same-channel pair', () => {
    const def = workflow({ steps: chain(sms('s1'), sms('s2'), sms('s3'), email('e1'), email('e2')) });
    expect(findingsFor('timing.back-to-back-messages', def).map((f) => f.stepId)).toEqual(['s1', 's2', 'e1']);
  });
  it('does not fire across channels or with a wait between', () => {
    expect(
      firedRules(workflow({ steps: chain(sms('s1'), email('e1'), sms('s2'), wait('w'), sms('s3')) })),
    ).not.toContain('timing.back-to-back-messages');
  });
});

describe('wait.invalid-duration', () => {
  it.each([
    ['a 0 value', wait('w1', 0)],
    ['a missing value', step('w1', 'wait', { type: 'time', startAfter: { type: 'days', when: 'after' } })],
    ['an unknown unit', wait('w1', 3, 'fortnights')],
    ['no startAfter', step('w1', 'wait', { type: 'time' })],
    [
      'an appointment wait with neither offset',
      step('w1', 'wait', { type: 'appointment', startAfter: {}, appointmentStartAfter: {} }),
    ],
  ])('fires on %s', (_name, w) => {
    expect(findingsFor('wait.invalid-duration', workflow({ steps: chain(sms('s1'), w) }))).toMatchObject([
      { stepId: 'w1' },
    ]);
  });
  it('accepts every known unit, numeric strings and anchored appointment waits', () => {
    const units = ['minutes', 'minute', 'hour', 'hours', 'day', 'days', 'week', 'weeks', 'month', 'months'];
    const steps = chain(
      sms('s1'),
      ...units.map((u, i) => wait(`w${i}`, 1, u)),
      wait('ws', '2'),
      step('wa', 'wait', { type: 'appointment', appointmentStartAfter: { value: 60 } }),
    );
    expect(firedRules(workflow({ steps }))).not.toContain('wait.invalid-duration');
  });
});

describe('reentry.allow-multiple-nurture', () => {
  const steps = chain(sms('s1'), wait('w1', 1, 'days'), sms('s2'));
  it('fires with re-entry, only contact-level triggers and at least 1 day of waits', () => {
    expect(firedRules(workflow({ allowMultiple: true, triggers: [tagTrigger('x'), formTrigger()], steps }))).toContain(
      'reentry.allow-multiple-nurture',
    );
  });
  it('does not fire with an appointment trigger, no active trigger, or less than a day of waits', () => {
    const appt = trigger('customer_booked_appointment', [
      { field: 'appointment.calendarId', operator: 'is-any-of', value: ['cal1'] },
    ]);
    expect(firedRules(workflow({ allowMultiple: true, triggers: [formTrigger(), appt], steps }))).not.toContain(
      'reentry.allow-multiple-nurture',
    );
    expect(
      firedRules(workflow({ allowMultiple: true, triggers: [formTrigger('form1', { active: false })], steps })),
    ).not.toContain('reentry.allow-multiple-nurture');
    expect(
      firedRules(workflow({ allowMultiple: true, steps: chain(sms('s1'), wait('w1', 23, 'hours'), sms('s2')) })),
    ).not.toContain('reentry.allow-multiple-nurture');
  });
});

describe('exit.no-response-handling', () => {
  const steps = chain(sms('s1'), wait('w1', 5, 'minutes'), email('e1'), sms('s2'));
  it('fires on 3 messages with a wait, no stop on response and no goal', () => {
    expect(firedRules(workflow({ stopOnResponse: false, steps }))).toContain('exit.no-response-handling');
  });
  it('counts unreachable messages too', () => {
    expect(
      firedRules(
        workflow({ stopOnResponse: false, steps: [...chain(sms('s1'), wait('w1'), sms('s2')), email('orphan')] }),
      ),
    ).toContain('exit.no-response-handling');
  });
  it('does not fire with stop on response, a goal, 2 messages or no time wait', () => {
    expect(firedRules(workflow({ stopOnResponse: true, steps }))).not.toContain('exit.no-response-handling');
    expect(
      firedRules(
        workflow({
          stopOnResponse: false,
          steps: [...steps, step('g', 'workflow_goal', { action: 'exit', segments: [] })],
        }),
      ),
    ).not.toContain('exit.no-response-handling');
    expect(
      firedRules(workflow({ stopOnResponse: false, steps: chain(sms('s1'), wait('w1'), sms('s2')) })),
    ).not.toContain('exit.no-response-handling');
    expect(
      firedRules(workflow({ stopOnResponse: false, steps: chain(sms('s1'), email('e1'), sms('s2')) })),
    ).not.toContain('exit.no-response-handling');
  });
});

describe('trigger.conflicting-workflows', () => {
  const t = () =>
    trigger('form_submission', [{ field: 'form.id', operator: 'is-any-of', value: ['f2', 'f1'], title: 'A', id: 'x' }]);
  const same = () =>
    trigger('form_submission', [{ field: 'form.id', operator: 'is-any-of', value: ['f1', 'f2'], title: 'B' }]);
  it('fires on both published message-sending workflows with the same trigger (order and titles ignored)', () => {
    const a = workflow({ id: 'wf-a', triggers: [t()] });
    const b = workflow({ id: 'wf-b', triggers: [same()] });
    expect(firedRules(a, { peers: [b] })).toContain('trigger.conflicting-workflows');
    expect(firedRules(b, { peers: [a] })).toContain('trigger.conflicting-workflows');
  });
  it('does not fire with a draft, different values, a silent peer or an inactive trigger', () => {
    const a = workflow({ id: 'wf-a', triggers: [t()] });
    expect(firedRules(a, { peers: [workflow({ id: 'wf-b', status: 'draft', triggers: [same()] })] })).not.toContain(
      'trigger.conflicting-workflows',
    );
    expect(firedRules(a, { peers: [workflow({ id: 'wf-b', triggers: [formTrigger('f1')] })] })).not.toContain(
      'trigger.conflicting-workflows',
    );
    expect(
      firedRules(a, {
        peers: [workflow({ id: 'wf-b', triggers: [same()], steps: [step('t', 'add_contact_tag', { tags: ['x'] })] })],
      }),
    ).not.toContain('trigger.conflicting-workflows');
    expect(
      firedRules(a, { peers: [workflow({ id: 'wf-b', triggers: [{ ...same(), active: false }, formTrigger('zz')] })] }),
    ).not.toContain('trigger.conflicting-workflows');
  });
});

describe('content.placeholder-text', () => {
  it.each([
    ['sms body', sms('p1', 'Learn [X strategies] today. Reply STOP')],
    ['email subject', email('p1', { subject: 'Your [First Name] offer' })],
    ['email html', email('p1', { html: '<p>[insert link here]</p>' })],
    ['AI prompt', step('p1', 'chatgpt', { promptText: 'Write about [your business]' })],
    [
      'notification body',
      step('p1', 'internal_notification', {
        notification: { title: 'Lead', body: 'TODO write this', userType: 'all' },
      }),
    ],
    ['task title', step('p1', 'task-notification', { title: 'Lorem ipsum', body: 'x', assigned_to: 'usr1' })],
    ['TBD', sms('p1', 'Price TBD. Reply STOP')],
  ])('fires on a placeholder in the %s', (_name, s) => {
    expect(findingsFor('content.placeholder-text', workflow({ steps: chain(sms('s0'), s) }))).toMatchObject([
      { stepId: 'p1' },
    ]);
  });
  it('ignores merge fields, lower-case brackets and todo in other words', () => {
    expect(
      firedRules(workflow({ steps: [sms('s1', 'Hi {{contact.first_name}} [ref: abc] todolist XXXL. Reply STOP')] })),
    ).not.toContain('content.placeholder-text');
  });
});

describe('notification.no-recipient', () => {
  const note = (attrs: Record<string, unknown>) => step('n1', 'internal_notification', attrs);
  it('fires without user ids, address or audience', () => {
    expect(
      firedRules(
        workflow({ steps: chain(sms('s1'), note({ type: 'notification', notification: { title: 'x', body: 'y' } })) }),
      ),
    ).toContain('notification.no-recipient');
    expect(
      firedRules(
        workflow({
          steps: chain(sms('s1'), note({ type: 'email', email: { user_ids: [''], to: '', subject: 's', body: 'b' } })),
        }),
      ),
    ).toContain('notification.no-recipient');
  });
  it.each([
    [{ notification: { userType: 'assigned' } }],
    [{ notification: { userIds: ['usr1'] } }],
    [{ email: { to: 'ops@clinic.test' } }],
    [{ email: { to_type: 'all' } }],
  ])('accepts %j', (attrs) => {
    expect(firedRules(workflow({ steps: chain(sms('s1'), note(attrs)) }))).not.toContain('notification.no-recipient');
  });
});

describe('ai.missing-prompt', () => {
  it('fires on a blank prompt only', () => {
    expect(
      findingsFor(
        'ai.missing-prompt',
        workflow({
          steps: chain(
            sms('s1'),
            step('a1', 'chatgpt', { promptText: ' ' }),
            step('a2', 'chatgpt', { promptText: 'Summarize' }),
          ),
        }),
      ),
    ).toMatchObject([{ stepId: 'a1' }]);
  });
});

describe('wait.excessive-duration', () => {
  it('fires above 60 days only', () => {
    expect(
      findingsFor(
        'wait.excessive-duration',
        workflow({ steps: chain(sms('s1'), wait('w1', 61), wait('w2', 60), wait('w3', 3, 'months')) }),
      ).map((f) => f.stepId),
    ).toEqual(['w1', 'w3']);
  });
});

describe('exit.no-goal', () => {
  const steps = chain(sms('s1'), wait('w1', 7), email('e1'), sms('s2'), email('e2'));
  it('fires on 7 days of waits and 4 messages without a goal', () => {
    expect(firedRules(workflow({ steps }))).toContain('exit.no-goal');
  });
  it('does not fire with a goal, 3 messages or 6 days', () => {
    expect(firedRules(workflow({ steps: [...steps, step('g', 'workflow_goal', {})] }))).not.toContain('exit.no-goal');
    expect(firedRules(workflow({ steps: chain(sms('s1'), wait('w1', 7), email('e1'), sms('s2')) }))).not.toContain(
      'exit.no-goal',
    );
    expect(
      firedRules(workflow({ steps: chain(sms('s1'), wait('w1', 6), email('e1'), sms('s2'), email('e2')) })),
    ).not.toContain('exit.no-goal');
  });
});

describe('sms.multi-segment', () => {
  it('fires past 306 GSM-7 characters or 134 UCS-2 units', () => {
    expect(firedRules(workflow({ steps: [sms('s1', `STOP ${'a'.repeat(302)}`)] }))).toContain('sms.multi-segment');
    expect(firedRules(workflow({ steps: [sms('s1', `STOP 😀 ${'a'.repeat(128)}`)] }))).toContain('sms.multi-segment');
  });
  it('does not fire at exactly two segments', () => {
    expect(firedRules(workflow({ steps: [sms('s1', `STOP ${'a'.repeat(301)}`)] }))).not.toContain('sms.multi-segment');
    expect(firedRules(workflow({ steps: [sms('s1', `STOP 😀 ${'a'.repeat(126)}`)] }))).not.toContain(
      'sms.multi-segment',
    );
  });
});

describe('email.default-sender', () => {
  it('fires per email without a sender when the workflow has none', () => {
    const def = workflow({ senderAddress: null, steps: chain(email('e1', { from_email: '' }), email('e2')) });
    expect(findingsFor('email.default-sender', def)).toMatchObject([{ stepId: 'e1', severity: 'info' }]);
  });
  it('does not fire when the workflow sets a sender', () => {
    expect(firedRules(workflow({ steps: [email('e1', { from_email: '' })] }))).not.toContain('email.default-sender');
  });
});

describe('lifecycle.unpublished-draft', () => {
  it('fires on a draft with steps only', () => {
    expect(firedRules(workflow({ status: 'draft' }))).toContain('lifecycle.unpublished-draft');
    expect(firedRules(workflow({ status: 'draft', steps: [] }))).not.toContain('lifecycle.unpublished-draft');
    expect(firedRules(workflow())).not.toContain('lifecycle.unpublished-draft');
  });
});
