import { asStrings, normalizeTag } from './attributes.js';
import { cyclicComponents } from './graph.js';
import { STANDARD_CONTACT_FIELDS } from './constants.js';
import { workflowIdOf, type LocationInventory, type Trigger, type WorkflowDefinition } from './schema.js';

/** What is known about a workflow of the location without its definition (e.g. `GET /workflows`). */
export interface WorkflowSummary {
  id: string;
  status: string;
  name?: string;
}

export interface LocationContextInput {
  locationId: string;
  /** The location's workflow definitions; the cross-workflow rules compare the published ones. */
  definitions?: readonly WorkflowDefinition[];
  /** Every workflow of the location, definitions or not; reference rules 16 and 30 look targets up here. */
  workflows?: readonly WorkflowSummary[];
  /**
   * Whether `workflows` plus `definitions` are all of the location's workflows, so that an id not
   * among them is missing (rule 16). Set false when analysing a few exported files.
   * @default true
   */
  workflowsComplete?: boolean;
  /** The location's inventory; without it the inventory reference checks are skipped. */
  inventory?: LocationInventory;
}

/** Lookup sets over a location's inventory. */
export interface InventoryIndex {
  readonly customFields: ReadonlySet<string>;
  /** Custom field id or fieldKey, to the field id (so two spellings of one field compare equal). */
  readonly customFieldIdentity: ReadonlyMap<string, string>;
  readonly customValueKeys: ReadonlySet<string>;
  readonly calendars: ReadonlySet<string>;
  readonly stagesByPipeline: ReadonlyMap<string, ReadonlySet<string>>;
  readonly allStages: ReadonlySet<string>;
  readonly activeUsers: ReadonlySet<string>;
  readonly forms: ReadonlySet<string>;
}

/** A location's facts, computed once and shared by the analyses of all its workflows. */
export interface LocationContext {
  readonly locationId: string;
  readonly inventory: InventoryIndex | undefined;
  /** Every known workflow of the location by id; undefined when nothing about the location is known. */
  readonly workflows: ReadonlyMap<string, WorkflowSummary> | undefined;
  /** Whether an id absent from `workflows` is known not to exist. */
  readonly workflowsComplete: boolean;
  /** Published workflows on a cross-workflow enrolment cycle, each with the other members' ids. */
  readonly enrolmentCycles: ReadonlyMap<string, readonly string[]>;
  /** Published, message-sending workflows sharing an identical active trigger, with the peers' ids. */
  readonly triggerConflicts: ReadonlyMap<string, readonly string[]>;
  /** Workflows that a published workflow of the location enrols with `add_to_workflow` (not itself). */
  readonly enrolledByOthers: ReadonlySet<string>;
  /** Name of a known workflow, for messages. */
  /** Names of these workflows, in a stable order (natural sort), whatever order the definitions were read in. */
  namesOf(workflowIds: readonly string[]): string[];
  nameOf(workflowId: string): string;
}

export function indexInventory(inventory: LocationInventory): InventoryIndex {
  const customFields = new Set<string>();
  const customFieldIdentity = new Map<string, string>();
  for (const field of inventory.customFields) {
    customFields.add(field.id);
    customFieldIdentity.set(field.id, field.id);
    if (field.fieldKey) {
      customFields.add(field.fieldKey);
      customFieldIdentity.set(field.fieldKey, field.id);
    }
  }
  const customValueKeys = new Set<string>();
  for (const value of inventory.customValues) {
    const key = value.fieldKey ? customValueKey(value.fieldKey) : undefined;
    if (key) customValueKeys.add(key);
  }
  const stagesByPipeline = new Map<string, Set<string>>();
  const allStages = new Set<string>();
  for (const pipeline of inventory.pipelines) {
    const stages = new Set(pipeline.stages.map((s) => s.id));
    stagesByPipeline.set(pipeline.id, stages);
    for (const s of stages) allStages.add(s);
  }
  return {
    customFields,
    customFieldIdentity,
    customValueKeys,
    calendars: new Set(inventory.calendars.map((c) => c.id)),
    stagesByPipeline,
    allStages,
    activeUsers: new Set(inventory.users.filter((u) => u.deleted !== true).map((u) => u.id)),
    forms: new Set(inventory.forms.map((f) => f.id)),
  };
}

const CUSTOM_VALUE_KEY = /custom_values\.([^\s}]+)/;

/** `{{ custom_values.booking_link }}` -> `booking_link`. */
export function customValueKey(fieldKey: string): string | undefined {
  return CUSTOM_VALUE_KEY.exec(fieldKey)?.[1];
}

/** The standard contact field a reference names (bare or `contact.`-prefixed), if any. */
export function standardContactField(ref: string): string | undefined {
  const bare = ref.startsWith('contact.') ? ref.slice('contact.'.length) : ref;
  return STANDARD_CONTACT_FIELDS.has(bare) ? bare : undefined;
}

/**
 * One identity per field, so that a trigger on `contact.review_left` and a step writing field id
 * `cfReviewLeft` compare equal when the inventory says they are the same field.
 */
export function fieldIdentity(ref: string, inventory: InventoryIndex | undefined): string {
  const custom = inventory?.customFieldIdentity.get(ref);
  if (custom) return `custom:${custom}`;
  const standard = standardContactField(ref);
  if (standard) return `standard:${standard}`;
  return `raw:${ref.startsWith('contact.') ? ref.slice('contact.'.length) : ref}`;
}

/** Tags an active `contact_tag` trigger listens for (the `tagsAdded` condition values), normalized. */
export function triggerTags(trigger: Trigger): string[] {
  if (!trigger.active || trigger.type !== 'contact_tag') return [];
  return trigger.conditions
    .filter((c) => c.field === 'tagsAdded')
    .flatMap((c) => asStrings(c.value).map(normalizeTag))
    .filter((t) => t !== '');
}

/** Tags added by the workflow's `add_contact_tag` steps, normalized, with the step that adds each. */
export function addedTags(def: WorkflowDefinition): Map<string, string> {
  const out = new Map<string, string>();
  for (const step of def.workflowData.templates) {
    if (step.type !== 'add_contact_tag') continue;
    for (const tag of asStrings(step.attributes['tags'])) {
      const t = normalizeTag(tag);
      if (t !== '' && !out.has(t)) out.set(t, step.id);
    }
  }
  return out;
}

/** Workflow ids targeted by `add_to_workflow` steps, with the first step that targets each. */
export function enrolmentTargets(def: WorkflowDefinition): Map<string, string> {
  const out = new Map<string, string>();
  for (const step of def.workflowData.templates) {
    if (step.type !== 'add_to_workflow') continue;
    for (const target of asStrings(step.attributes['workflow_id']))
      if (target !== '' && !out.has(target)) out.set(target, step.id);
  }
  return out;
}

/** A canonical string of a trigger: its type plus the multiset of (field, operator, value) (§4.1 item 18). */
export function triggerSignature(trigger: Trigger): string {
  const conditions = trigger.conditions.map((c) => stableJson([c.field, c.operator, canonicalValue(c.value)])).sort();
  return stableJson([trigger.type, conditions]);
}

function canonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => stableJson(v)).sort();
  return value === undefined ? null : value;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sendsMessages(def: WorkflowDefinition): boolean {
  return def.workflowData.templates.some((s) => s.type === 'sms' || s.type === 'email');
}

/** Computes the location-wide facts once; definitions of other locations are ignored. */
export function createLocationContext(input: LocationContextInput): LocationContext {
  const definitions = (input.definitions ?? []).filter((d) => d.locationId === input.locationId);
  const published = definitions.filter((d) => d.status === 'published');

  let workflows: Map<string, WorkflowSummary> | undefined;
  if (input.workflows || input.definitions) {
    workflows = new Map();
    for (const w of input.workflows ?? []) workflows.set(w.id, w);
    for (const d of definitions)
      workflows.set(workflowIdOf(d), { id: workflowIdOf(d), status: d.status, name: d.name });
  }

  // Enrolment graph over published workflows: A -> B when A adds B's trigger tag or enrols into B.
  const ids = published.map(workflowIdOf);
  const publishedIds = new Set(ids);
  const byTag = new Map<string, string[]>();
  for (const d of published) {
    for (const trigger of d.triggers) {
      for (const tag of triggerTags(trigger)) {
        const list = byTag.get(tag) ?? [];
        list.push(workflowIdOf(d));
        byTag.set(tag, list);
      }
    }
  }
  const edges = new Map<string, string[]>();
  const enrolledByOthers = new Set<string>();
  for (const d of published) {
    const from = workflowIdOf(d);
    const out = new Set<string>();
    for (const tag of addedTags(d).keys()) for (const to of byTag.get(tag) ?? []) out.add(to);
    for (const to of enrolmentTargets(d).keys()) {
      if (to !== from) enrolledByOthers.add(to);
      if (publishedIds.has(to)) out.add(to);
    }
    // Self-edges belong to loop.tag-retrigger (§4.1 item 3).
    out.delete(from);
    edges.set(from, [...out]);
  }
  const enrolmentCycles = new Map<string, string[]>();
  for (const component of cyclicComponents(ids, (n) => edges.get(n) ?? [])) {
    for (const member of component)
      enrolmentCycles.set(
        member,
        component.filter((m) => m !== member),
      );
  }

  const bySignature = new Map<string, Set<string>>();
  for (const d of published) {
    if (!sendsMessages(d)) continue;
    for (const trigger of d.triggers) {
      if (!trigger.active) continue;
      const sig = triggerSignature(trigger);
      const set = bySignature.get(sig) ?? new Set<string>();
      set.add(workflowIdOf(d));
      bySignature.set(sig, set);
    }
  }
  const triggerConflicts = new Map<string, string[]>();
  for (const set of bySignature.values()) {
    if (set.size < 2) continue;
    for (const member of set) {
      const peers = new Set(triggerConflicts.get(member) ?? []);
      for (const other of set) if (other !== member) peers.add(other);
      triggerConflicts.set(member, [...peers]);
    }
  }

  const nameOf = (id: string) => {
    const name = workflows?.get(id)?.name;
    return name ? `"${name}"` : id;
  };
  return {
    locationId: input.locationId,
    inventory: input.inventory ? indexInventory(input.inventory) : undefined,
    workflows,
    workflowsComplete: workflows !== undefined && input.workflowsComplete !== false,
    enrolmentCycles,
    triggerConflicts,
    enrolledByOthers,
    nameOf,
    namesOf: (ids) => ids.map(nameOf).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
  };
}
