import { asObject, asString, asStrings, htmlText, isBlank, type Obj } from '../attributes.js';
import { BOOKING_STATUSES, CONTACT_LEVEL_TRIGGER_TYPES, IMPLICIT_RECIPIENT_TYPES, THRESHOLDS } from '../constants.js';
import { reach } from '../graph.js';
import { smsSegments } from '../sms.js';
import type { Step } from '../schema.js';
import { label, stepsOfType, type Rule } from './types.js';

const OPT_OUT = /\bstop\b|opt[\s-]?out|unsubscribe/i;

export const smsNoOptOut: Rule = {
  number: 11,
  id: 'compliance.sms-no-opt-out',
  severity: 'high',
  title: 'No opt-out language in SMS',
  fix: 'Add "Reply STOP to opt out" to the first SMS',
  granularity: 'workflow',
  scope: 'workflow',
  *check(ctx) {
    const sms = stepsOfType(ctx, 'sms');
    if (sms.length === 0) return;
    // Over the non-blank bodies, reachable or not (§4.1 item 15).
    const bodies = sms.map((s) => asString(s.attributes['body']) ?? '').filter((b) => b.trim() !== '');
    if (bodies.some((b) => OPT_OUT.test(b))) return;
    const subject = sms.length === 1 ? 'The SMS step does not tell' : `None of the ${sms.length} SMS steps tells`;
    yield {
      stepId: sms[0]!.id,
      message: `${subject} the contact how to opt out (e.g. "Reply STOP"), which A2P 10DLC registration and carriers require.`,
    };
  },
};

export const noSendWindow: Rule = {
  number: 12,
  id: 'timing.no-send-window',
  severity: 'high',
  title: 'SMS can go out at any hour',
  fix: 'Set a workflow time window (e.g. Mon–Sat 9–19)',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ def, graph }) {
    if (def.window !== null) return;
    // An SMS one or more edges after a wait that is itself reachable from an entry (§4.1 item 14).
    const afterWaits: string[] = [];
    for (const id of graph.reachable) {
      if (graph.byId.get(id)!.type === 'wait') afterWaits.push(...(graph.successors.get(id) ?? []));
    }
    for (const id of reach(afterWaits, graph.successors)) {
      const step = graph.byId.get(id)!;
      if (step.type === 'sms') {
        yield {
          stepId: id,
          message: `${label(step)} is sent after a wait and the workflow has no time window, so it can go out in the middle of the night.`,
        };
        return;
      }
    }
  },
};

function isBookingTrigger(trigger: { type: string; conditions: { field: string; value?: unknown }[] }): boolean {
  if (trigger.type === 'customer_booked_appointment') return true;
  if (trigger.type !== 'appointment') return false;
  return trigger.conditions.some(
    (c) =>
      c.field === 'appointment.status' && asStrings(c.value).some((v) => BOOKING_STATUSES.has(v.trim().toLowerCase())),
  );
}

export const reminderElapsedWait: Rule = {
  number: 13,
  id: 'timing.reminder-elapsed-wait',
  severity: 'high',
  title: 'Appointment reminder uses elapsed waits',
  fix: 'Use "wait until X before appointment" with skip',
  granularity: 'workflow',
  scope: 'workflow',
  *check(ctx) {
    const { def, graph, facts } = ctx;
    if (!facts.activeTriggers.some(isBookingTrigger)) return;
    const waits = stepsOfType(ctx, 'wait');
    const timeWaits = waits.filter((w) => w.attributes['type'] === 'time');
    if (timeWaits.length === 0 || waits.some((w) => w.attributes['type'] === 'appointment')) return;
    const remind = /remind/i;
    if (!remind.test(def.name) && !graph.steps.some((s) => remind.test(s.name))) return;
    yield {
      stepId: timeWaits[0]!.id,
      message: `This reminder sequence starts at booking and counts elapsed time (${timeWaits.length} time wait(s)), so reminders drift from the appointment and can arrive after it.`,
    };
  },
};

function emailParts(step: Step): { templateId: boolean; subject: string; content: string } {
  const a = step.attributes;
  const html = asString(a['html']) ?? '';
  const body = asString(a['body']) ?? '';
  return {
    templateId: !isBlank(a['template_id']),
    subject: asString(a['subject']) ?? '',
    content: `${htmlText(html)} ${htmlText(body)}`.trim(),
  };
}

export const emptyContent: Rule = {
  number: 14,
  id: 'message.empty-content',
  severity: 'high',
  title: 'Message step is empty',
  fix: 'Write the message or remove the step',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    for (const step of stepsOfType(ctx, 'sms', 'email')) {
      if (step.type === 'sms') {
        // An attachment-only SMS is an MMS with content; only a body-less, attachment-less one is empty.
        const attachments = Array.isArray(step.attributes['attachments']) ? step.attributes['attachments'].length : 0;
        if (isBlank(step.attributes['body']) && attachments === 0)
          yield { stepId: step.id, message: `${label(step)} has no text: GHL sends nothing or fails the step.` };
      } else {
        const email = emailParts(step);
        if (!email.templateId && email.content === '')
          yield { stepId: step.id, message: `${label(step)} has no template and no body text.` };
      }
    }
  },
};

export const missingSubject: Rule = {
  number: 15,
  id: 'email.missing-subject',
  severity: 'high',
  title: 'Email without subject',
  fix: 'Add a subject line',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    for (const step of stepsOfType(ctx, 'email')) {
      const email = emailParts(step);
      if (!email.templateId && email.subject.trim() === '')
        yield { stepId: step.id, message: `${label(step)} has no subject line and no template to supply one.` };
    }
  },
};

export const windowOutsideTcpa: Rule = {
  number: 24,
  id: 'timing.window-outside-tcpa-hours',
  severity: 'medium',
  title: 'Send window outside 8am–9pm',
  fix: 'Narrow the window to 08:00–21:00',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ def }) {
    const w = def.window;
    if (!w) return;
    const end = w.endHour * 60 + w.endMinute;
    if (w.startHour >= THRESHOLDS.tcpaEarliestStartHour && end <= THRESHOLDS.tcpaLatestEndMinute) return;
    const hhmm = (h: number, m: number) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
    yield {
      message: `The send window ${hhmm(w.startHour, w.startMinute)}–${hhmm(w.endHour, w.endMinute)} allows messages outside 08:00–21:00 in the recipient's time (TCPA quiet hours).`,
    };
  },
};

export const backToBack: Rule = {
  number: 25,
  id: 'timing.back-to-back-messages',
  severity: 'medium',
  title: 'Two messages in a row on the same channel',
  fix: 'Merge them or put a wait between',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph }) {
    for (const step of graph.steps) {
      if (step.type !== 'sms' && step.type !== 'email') continue;
      const same = (graph.successors.get(step.id) ?? [])
        .map((id) => graph.byId.get(id)!)
        .find((n) => n.type === step.type);
      if (same)
        yield {
          stepId: step.id,
          message: `${label(step)} is followed directly by ${label(same)}: the contact gets two ${step.type === 'sms' ? 'texts' : 'emails'} at once.`,
        };
    }
  },
};

export const invalidWaitDuration: Rule = {
  number: 26,
  id: 'wait.invalid-duration',
  severity: 'medium',
  title: 'Wait has no duration',
  fix: 'Set the wait duration',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph, facts }) {
    for (const step of graph.steps) {
      const wait = facts.waits.get(step.id);
      if (wait?.kind === 'time-invalid')
        yield { stepId: step.id, message: `${label(step)} is a time wait but ${wait.reason}.` };
      else if (wait?.kind === 'appointment' && !wait.valid)
        yield {
          stepId: step.id,
          message: `${label(step)} waits for an appointment but sets no offset before or after it.`,
        };
    }
  },
};

export const reentryNurture: Rule = {
  number: 27,
  id: 'reentry.allow-multiple-nurture',
  severity: 'medium',
  title: 'Re-entry on a long contact-level sequence',
  fix: 'Turn off "allow re-entry"',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ def, facts }) {
    // At least one active trigger (§4.1 item 12): zero triggers is not "all contact-level".
    if (!def.allowMultiple || facts.activeTriggers.length === 0) return;
    if (!facts.activeTriggers.every((t) => CONTACT_LEVEL_TRIGGER_TYPES.has(t.type))) return;
    if (facts.totalTimeWaitMinutes < THRESHOLDS.nurtureMinTotalWaitMinutes) return;
    yield {
      message: `Re-entry is allowed on a sequence with ${formatMinutes(facts.totalTimeWaitMinutes)} of waits started by contact events, so a contact who triggers it again runs a second copy in parallel.`,
    };
  },
};

export const noResponseHandling: Rule = {
  number: 28,
  id: 'exit.no-response-handling',
  severity: 'medium',
  title: 'Sequence ignores replies',
  fix: 'Turn on Stop on Response or add a goal',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ def, facts }) {
    if (facts.outboundMessages < THRESHOLDS.noResponseMinOutboundMessages || facts.totalTimeWaitMinutes <= 0) return;
    if (def.stopOnResponse || facts.hasGoal) return;
    yield {
      message: `${facts.outboundMessages} messages over ${formatMinutes(facts.totalTimeWaitMinutes)} keep going after the contact replies: Stop on Response is off and there is no goal.`,
    };
  },
};

// Every pattern is linear: a bracketed placeholder cannot contain another `[`, so a scan that starts at one `[` stops
// at the next, and its length is bounded (GHL placeholders are short), so no start position rescans the rest.
const PLACEHOLDERS: readonly RegExp[] = [
  /\[[A-Z][a-zA-Z]{0,60}(?:\s{1,10}[A-Z][a-zA-Z]{0,60}){0,10}\]/,
  /\[X\b[^\][]{0,200}\]/,
  /\[insert\b[^\][]{0,200}\]/i,
  /\[your\s[^\][]{0,200}\]/i,
  /lorem ipsum/i,
  /\b(TODO|TBD|XXX)\b/,
];

/** The first placeholder in `text`: patterns in order, stopping at the first that matches. */
function firstPlaceholder(text: string): RegExpExecArray | undefined {
  for (const re of PLACEHOLDERS) {
    const match = re.exec(text);
    if (match) return match;
  }
  return undefined;
}

/** The copy fields of a step that a contact or user reads (§4.1 item 16). */
function copyFields(step: Step): [string, string][] {
  const a = step.attributes;
  const pick = (obj: Obj | undefined, keys: string[], prefix = ''): [string, string][] =>
    obj
      ? keys.flatMap((k) => (typeof obj[k] === 'string' ? [[prefix + k, obj[k] as string] as [string, string]] : []))
      : [];
  switch (step.type) {
    case 'sms':
      return pick(a, ['body']);
    case 'email':
      return pick(a, ['subject', 'html', 'body']);
    case 'chatgpt':
      return pick(a, ['promptText']);
    case 'internal_notification':
      return [
        ...pick(asObject(a['notification']), ['title', 'body'], 'notification.'),
        ...pick(asObject(a['email']), ['subject', 'body'], 'email.'),
      ];
    case 'task-notification':
      return pick(a, ['title', 'body']);
    default:
      return [];
  }
}

export const placeholderText: Rule = {
  number: 32,
  id: 'content.placeholder-text',
  severity: 'medium',
  title: 'Placeholder copy left in a message',
  fix: 'Replace the placeholder text',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph }) {
    for (const step of graph.steps) {
      for (const [field, text] of copyFields(step)) {
        const match = firstPlaceholder(text);
        if (match) {
          yield { stepId: step.id, message: `${label(step)} ${field} contains placeholder text "${match[0]}".` };
          break;
        }
      }
    }
  },
};

export const noRecipient: Rule = {
  number: 34,
  id: 'notification.no-recipient',
  severity: 'medium',
  title: 'Internal notification has no recipient',
  fix: 'Pick users or an email address',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    for (const step of stepsOfType(ctx, 'internal_notification')) {
      const notification = asObject(step.attributes['notification']);
      const email = asObject(step.attributes['email']);
      const ids = [...asStrings(notification?.['userIds']), ...asStrings(email?.['user_ids'])].filter(
        (s) => s.trim() !== '',
      );
      const to = asStrings(email?.['to']).filter((s) => s.trim() !== '');
      const audience = [asString(notification?.['userType']), asString(email?.['to_type'])].some(
        (t) => t !== undefined && IMPLICIT_RECIPIENT_TYPES.has(t),
      );
      if (ids.length === 0 && to.length === 0 && !audience)
        yield {
          stepId: step.id,
          message: `${label(step)} names no user, no address and no audience (all or assigned user), so nobody is notified.`,
        };
    }
  },
};

export const missingPrompt: Rule = {
  number: 35,
  id: 'ai.missing-prompt',
  severity: 'medium',
  title: 'AI step with an empty prompt',
  fix: 'Write the prompt or remove the step',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    for (const step of stepsOfType(ctx, 'chatgpt')) {
      if (isBlank(step.attributes['promptText']))
        yield {
          stepId: step.id,
          message: `${label(step)} has an empty prompt: it spends AI credits and returns nothing useful.`,
        };
    }
  },
};

export const excessiveWait: Rule = {
  number: 36,
  id: 'wait.excessive-duration',
  severity: 'low',
  title: 'Very long single wait',
  fix: 'Use a date-based trigger instead',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph, facts }) {
    for (const step of graph.steps) {
      const wait = facts.waits.get(step.id);
      if (wait?.kind === 'time' && wait.minutes > THRESHOLDS.excessiveWaitMinutes) {
        yield {
          stepId: step.id,
          message: `${label(step)} waits ${formatMinutes(wait.minutes)}; edits to the workflow and contact changes pile up while contacts sit in it.`,
        };
      }
    }
  },
};

export const noGoal: Rule = {
  number: 37,
  id: 'exit.no-goal',
  severity: 'low',
  title: 'Long sequence without a goal',
  fix: 'Add a goal event (booked, replied, purchased)',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ facts }) {
    if (
      facts.hasGoal ||
      facts.totalTimeWaitMinutes < THRESHOLDS.noGoalMinTotalWaitMinutes ||
      facts.outboundMessages < THRESHOLDS.noGoalMinOutboundMessages
    )
      return;
    yield {
      message: `${facts.outboundMessages} messages over ${formatMinutes(facts.totalTimeWaitMinutes)} with no goal: contacts who book or buy keep receiving the sequence.`,
    };
  },
};

export const multiSegment: Rule = {
  number: 38,
  id: 'sms.multi-segment',
  severity: 'low',
  title: 'SMS longer than 2 segments',
  fix: 'Shorten the message',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    for (const step of stepsOfType(ctx, 'sms')) {
      const body = asString(step.attributes['body']);
      if (!body) continue;
      const s = smsSegments(body);
      if (s.segments > THRESHOLDS.smsMaxSegments) {
        yield {
          stepId: step.id,
          message: `${label(step)} needs ${s.segments} ${s.encoding} segments (${s.length} ${s.encoding === 'GSM-7' ? 'characters' : 'UCS-2 units'}); each is billed and long texts are filtered more often.`,
        };
      }
    }
  },
};

export const defaultSender: Rule = {
  number: 39,
  id: 'email.default-sender',
  severity: 'info',
  title: "Email uses the location's default sender",
  fix: 'Set a sender name and address',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    if (!isBlank(ctx.def.senderAddress?.fromEmail)) return;
    for (const step of stepsOfType(ctx, 'email')) {
      if (isBlank(step.attributes['from_email']))
        yield {
          stepId: step.id,
          message: `${label(step)} sets no sender address and the workflow has none, so the location default is used.`,
        };
    }
  },
};

export const unpublishedDraft: Rule = {
  number: 40,
  id: 'lifecycle.unpublished-draft',
  severity: 'info',
  title: 'Draft workflow',
  fix: 'Publish it when ready, or archive it',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ def, graph }) {
    if (def.status === 'draft' && graph.steps.length > 0)
      yield { message: 'The workflow is a draft: saved, but it enrols nobody until it is published.' };
  },
};

export const conflictingWorkflows: Rule = {
  number: 29,
  id: 'trigger.conflicting-workflows',
  severity: 'medium',
  title: 'Same trigger in two published workflows',
  fix: 'Merge them or unpublish the duplicate',
  granularity: 'workflow',
  scope: 'cross-workflow',
  *check({ def, workflowId, location }) {
    if (def.status !== 'published' || !location) return;
    const peers = location.triggerConflicts.get(workflowId);
    if (!peers || peers.length === 0) return;
    const one = peers.length === 1;
    yield {
      message: `${location.namesOf(peers).join(', ')} ${one ? 'has' : 'have'} an identical active trigger and also ${one ? 'sends' : 'send'} messages, so contacts get ${one ? 'both sequences' : 'every sequence'}.`,
    };
  },
};

/** "3 days 4 hours" style. */
export function formatMinutes(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? '' : 's'}`;
  if (minutes >= 1440) return `${(minutes / 1440).toFixed(1)} days`;
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? '' : 's'}`;
  return `${Math.round(minutes)} minutes`;
}
