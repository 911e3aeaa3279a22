/*
 * Builders of minimal canonical definitions for the unit tests. Not part of the public entry.
 * The defaults describe a healthy workflow, so that each test changes one thing and the near
 * miss (the default) proves the rule does not fire without that change.
 */
import { analyzeParsed, type Finding } from './analyze.js';
import { createLocationContext } from './location.js';
import { parseWorkflowDefinition, type LocationInventory, type WorkflowDefinition } from './schema.js';

export const LOCATION_ID = 'locTest0000000000001';

type Json = Record<string, unknown>;

export interface StepInput extends Json {
  id: string;
  type: string;
  attributes: Json;
  next?: string | string[];
}

export function step(id: string, type: string, attributes: Json = {}, extra: Json = {}): StepInput {
  return { id, order: 0, name: `${type} ${id}`, type, cat: 'actions', attributes, ...extra };
}

/** Links the steps in order with string next pointers (keeps explicit ones). */
export function chain(...steps: StepInput[]): StepInput[] {
  return steps.map((s, i) => (s.next === undefined && i < steps.length - 1 ? { ...s, next: steps[i + 1]!.id } : s));
}

export const sms = (id: string, body = 'Hi {{contact.first_name}}, reply STOP to opt out.') =>
  step(id, 'sms', { body, attachments: [] });
export const email = (id: string, attrs: Json = {}) =>
  step(id, 'email', {
    subject: 'Hello',
    html: '<p>Hi there</p>',
    from_name: 'Clinic',
    from_email: 'hi@clinic.test',
    ...attrs,
  });
export const wait = (id: string, value: unknown = 1, unit: unknown = 'days') =>
  step(id, 'wait', { type: 'time', startAfter: { type: unit, value, when: 'after' } });
export const tag = (id: string, ...tags: string[]) => step(id, 'add_contact_tag', { tags });
export const gotoStep = (id: string, targetNodeId: string) => step(id, 'goto', { type: 'goto', targetNodeId });

export function trigger(type: string, conditions: Json[] = [], extra: Json = {}): Json {
  return {
    id: `trg-${type}-${Math.abs(hash(JSON.stringify(conditions)))}`,
    type,
    name: `${type} trigger`,
    active: true,
    conditions,
    ...extra,
  };
}

export const tagTrigger = (t: string, extra: Json = {}) =>
  trigger('contact_tag', [{ field: 'tagsAdded', operator: 'index-of-true', value: t }], extra);
export const formTrigger = (formId = 'form1', extra: Json = {}) =>
  trigger('form_submission', [{ field: 'form.id', operator: 'is-any-of', value: [formId] }], extra);

export interface WorkflowInput {
  id?: string;
  name?: string;
  locationId?: string;
  status?: 'draft' | 'published';
  allowMultiple?: boolean;
  stopOnResponse?: boolean;
  window?: Json | null;
  senderAddress?: Json | null;
  /** Defaults to a filtered form trigger pointing at the first step. */
  triggers?: Json[];
  steps?: StepInput[];
}

/** A canonical definition; every trigger without a target points at the first step. */
export function workflow(input: WorkflowInput = {}): WorkflowDefinition {
  const steps = input.steps ?? [sms('s1')];
  const first = steps[0]?.id;
  const triggers = (input.triggers ?? [formTrigger()]).map((t) => ({ targetActionId: first, ...t }));
  const id = input.id ?? 'wf-1';
  return parseWorkflowDefinition({
    _id: id,
    id,
    locationId: input.locationId ?? LOCATION_ID,
    name: input.name ?? 'Test workflow',
    status: input.status ?? 'published',
    version: 1,
    timezone: 'account',
    allowMultiple: input.allowMultiple ?? false,
    stopOnResponse: input.stopOnResponse ?? true,
    window:
      input.window === undefined
        ? { days: [1, 2, 3, 4, 5], startHour: 9, startMinute: 0, endHour: 19, endMinute: 0 }
        : input.window,
    senderAddress:
      input.senderAddress === undefined ? { fromName: 'Clinic', fromEmail: 'hi@clinic.test' } : input.senderAddress,
    triggers,
    workflowData: { templates: steps },
  });
}

export const INVENTORY: LocationInventory = {
  customFields: [{ id: 'cfA', name: 'A', fieldKey: 'contact.field_a' }],
  customValues: [{ id: 'cv1', name: 'Link', fieldKey: '{{ custom_values.booking_link }}' }],
  calendars: [{ id: 'cal1', name: 'Cal' }],
  pipelines: [
    { id: 'pip1', name: 'P1', stages: [{ id: 'stg1', name: 'S1' }] },
    { id: 'pip2', name: 'P2', stages: [{ id: 'stg2', name: 'S2' }] },
  ],
  users: [
    { id: 'usr1', name: 'Active' },
    { id: 'usrGone', name: 'Gone', deleted: true },
  ],
  forms: [{ id: 'form1', name: 'Form' }],
};

export interface AnalyzeForTest {
  inventory?: LocationInventory | null;
  /** Other workflows of the location. */
  peers?: WorkflowDefinition[];
  workflowsComplete?: boolean;
}

/** Findings of `def` analysed with its location (default inventory, peers). */
export function findingsOf(def: WorkflowDefinition, opts: AnalyzeForTest = {}): Finding[] {
  const inventory = opts.inventory === null ? undefined : (opts.inventory ?? INVENTORY);
  const location = createLocationContext({
    locationId: def.locationId,
    definitions: [def, ...(opts.peers ?? [])],
    ...(inventory ? { inventory } : {}),
    ...(opts.workflowsComplete === undefined ? {} : { workflowsComplete: opts.workflowsComplete }),
  });
  return analyzeParsed(def, { location }).findings;
}

export function firedRules(def: WorkflowDefinition, opts: AnalyzeForTest = {}): Set<string> {
  return new Set(findingsOf(def, opts).map((f) => f.ruleId));
}

/** Findings of one rule. */
export function findingsFor(ruleId: string, def: WorkflowDefinition, opts: AnalyzeForTest = {}): Finding[] {
  return findingsOf(def, opts).filter((f) => f.ruleId === ruleId);
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}
