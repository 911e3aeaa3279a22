import { z } from 'zod';
import { InvalidDefinitionError, type InputIssue } from './errors.js';

/*
 * The canonical workflow definition (research/ghl-domain.md §2.1): GHL's builder shape with the
 * triggers embedded. Objects are loose: GHL adds fields over time and the analyzer must not refuse
 * an export because of a field it does not read. Only what the rules rely on is required.
 */

const id = z.string().min(1, 'must be a non-empty string');

const sendWindow = z.looseObject({
  days: z.array(z.number().int().min(0).max(6)).default([]),
  startHour: z.number().int().min(0).max(23),
  startMinute: z.number().int().min(0).max(59).default(0),
  endHour: z.number().int().min(0).max(24),
  endMinute: z.number().int().min(0).max(59).default(0),
});

const triggerCondition = z.looseObject({
  field: z.string(),
  operator: z.string(),
  // Optional: a "has changed" condition carries no value (§4.1 item 20).
  value: z.unknown().optional(),
  title: z.string().optional(),
  type: z.string().optional(),
  id: z.string().optional(),
});

export const triggerSchema = z.looseObject({
  id,
  type: z.string().min(1, 'must be a non-empty string'),
  name: z.string().default(''),
  masterType: z.string().optional(),
  active: z.boolean(),
  conditions: z.array(triggerCondition).default([]),
  targetActionId: z.string().nullish(),
});

export const stepSchema = z.looseObject({
  id,
  order: z.number().optional(),
  name: z.string().default(''),
  type: z.string().min(1, 'must be a non-empty string'),
  cat: z.string().optional(),
  nodeType: z.string().optional(),
  parent: z.string().nullish(),
  parentKey: z.string().nullish(),
  sibling: z.array(z.string()).optional(),
  // A string for ordinary steps, an array for routers, absent (or null) at the end of a path.
  next: z.union([z.string(), z.array(z.string())]).nullish(),
  attributes: z.record(z.string(), z.unknown()).default({}),
});

export const workflowDefinitionSchema = z
  .looseObject({
    _id: z.string().optional(),
    id: z.string().optional(),
    locationId: id,
    name: z.string(),
    status: z.enum(['draft', 'published']),
    version: z.number().optional(),
    dataVersion: z.number().optional(),
    type: z.string().optional(),
    parentId: z.string().nullish(),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
    timezone: z.string().optional(),
    allowMultiple: z.boolean(),
    allowMultipleOpportunity: z.boolean().optional(),
    stopOnResponse: z.boolean(),
    autoMarkAsRead: z.boolean().optional(),
    removeContactFromLastStep: z.boolean().optional(),
    window: sendWindow.nullable().default(null),
    senderAddress: z.looseObject({ fromName: z.string().nullish(), fromEmail: z.string().nullish() }).nullable().default(null),
    triggers: z.array(triggerSchema),
    workflowData: z.looseObject({ templates: z.array(stepSchema) }),
  })
  .superRefine((def, ctx) => {
    if (!def.id && !def._id) ctx.addIssue({ code: 'custom', path: ['id'], message: 'either id or _id is required' });
    const seen = new Set<string>();
    def.workflowData.templates.forEach((step, index) => {
      if (seen.has(step.id)) {
        ctx.addIssue({ code: 'custom', path: ['workflowData', 'templates', index, 'id'], message: `duplicate step id "${step.id}"` });
      }
      seen.add(step.id);
    });
  });

export type WorkflowDefinition = z.infer<typeof workflowDefinitionSchema>;
export type Trigger = z.infer<typeof triggerSchema>;
export type TriggerCondition = z.infer<typeof triggerCondition>;
export type Step = z.infer<typeof stepSchema>;
export type SendWindow = z.infer<typeof sendWindow>;

/* The account inventory for reference checks, shaped like GHL's public list responses. */

const named = z.looseObject({ id, name: z.string().default('') });

export const locationInventorySchema = z.looseObject({
  name: z.string().optional(),
  customFields: z.array(z.looseObject({ id, name: z.string().default(''), fieldKey: z.string().optional() })).default([]),
  customValues: z.array(z.looseObject({ id, name: z.string().default(''), fieldKey: z.string().optional() })).default([]),
  calendars: z.array(named).default([]),
  pipelines: z.array(z.looseObject({ id, name: z.string().default(''), stages: z.array(named).default([]) })).default([]),
  users: z.array(z.looseObject({ id, name: z.string().default(''), deleted: z.boolean().optional() })).default([]),
  forms: z.array(named).default([]),
});

/** `_locations.json`: the inventory of every location of an account, by location id. */
export const accountInventorySchema = z.looseObject({ locations: z.record(z.string(), locationInventorySchema) });

export type LocationInventory = z.infer<typeof locationInventorySchema>;
export type AccountInventory = z.infer<typeof accountInventorySchema>;

function toIssues(error: z.ZodError, input?: unknown): InputIssue[] {
  const issues = error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  // The id refinement only runs once the shape is valid; report it with the other problems.
  if (input !== undefined && typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const { id: a, _id: b } = input as Record<string, unknown>;
    const hasId = (typeof a === 'string' && a !== '') || (typeof b === 'string' && b !== '');
    if (!hasId && !issues.some((i) => i.path === 'id')) issues.unshift({ path: 'id', message: 'either id or _id is required' });
  }
  return issues;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Validates a workflow definition; throws `InvalidDefinitionError` listing every problem. */
export function parseWorkflowDefinition(input: unknown, source?: string): WorkflowDefinition {
  const result = workflowDefinitionSchema.safeParse(input);
  if (!result.success) throw new InvalidDefinitionError('workflow', toIssues(result.error, input), source, { cause: result.error });
  return result.data;
}

/** Like `parseWorkflowDefinition`, but returns the issues instead of throwing. */
export function safeParseWorkflowDefinition(
  input: unknown,
): { ok: true; definition: WorkflowDefinition } | { ok: false; issues: InputIssue[] } {
  const result = workflowDefinitionSchema.safeParse(input);
  return result.success ? { ok: true, definition: result.data } : { ok: false, issues: toIssues(result.error, input) };
}

/** Validates an account inventory (`{ locations: { [locationId]: {...} } }`). */
export function parseAccountInventory(input: unknown, source?: string): AccountInventory {
  const result = accountInventorySchema.safeParse(input);
  if (!result.success) throw new InvalidDefinitionError('inventory', toIssues(result.error), source, { cause: result.error });
  return result.data;
}

/** The workflow's id: `id`, else `_id` (GHL sends both with the same value). */
export function workflowIdOf(def: Pick<WorkflowDefinition, 'id' | '_id'>): string {
  return def.id || def._id || '';
}
