import { z } from 'zod';
import { InvalidDefinitionError, type InputIssue } from './errors.js';

/*
 * The canonical workflow definition (research/ghl-domain.md §2.1): GHL's builder shape with the
 * triggers embedded. Objects are loose: GHL adds fields over time and the analyzer must not refuse
 * an export because of a field it does not read. Only what the rules rely on is required.
 */

const id = z.string().min(1, 'must be a non-empty string').max(200, 'must be at most 200 characters');
/** A workflow's own id: a path segment of GHL URLs and a database key, so letters, digits, `_` and `-` only. */
const workflowId = z
  .string()
  .max(200, 'must be at most 200 characters')
  .regex(/^[\w-]+$/, 'must contain only letters, digits, _ and -');
const label = z.string().max(1_000, 'must be at most 1000 characters');

/**
 * Size caps of a definition, far above what GHL's builder produces (an SMS is at most 1,600 characters, an email body a
 * few dozen KB) and low enough that no field or list makes an analysis expensive.
 */
export const DEFINITION_LIMITS = { text: 65_536, steps: 1_000, triggers: 200, conditions: 100, issues: 50 } as const;

/** Every string inside step attributes (nested objects and arrays included) is at most `DEFINITION_LIMITS.text`. */
function checkTexts(value: unknown, ctx: z.RefinementCtx, path: PropertyKey[], depth = 0): void {
  if (typeof value === 'string') {
    if (value.length > DEFINITION_LIMITS.text)
      ctx.addIssue({ code: 'custom', path, message: `must be at most ${DEFINITION_LIMITS.text} characters` });
  } else if (depth < 8 && typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value))
      checkTexts(item, ctx, [...path, Array.isArray(value) ? Number(key) : key], depth + 1);
  }
}

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
  name: label.default(''),
  masterType: z.string().optional(),
  active: z.boolean(),
  conditions: z.array(triggerCondition).max(DEFINITION_LIMITS.conditions).default([]),
  targetActionId: z.string().nullish(),
});

export const stepSchema = z.looseObject({
  id,
  order: z.number().optional(),
  name: label.default(''),
  type: z.string().min(1, 'must be a non-empty string').max(200),
  cat: z.string().optional(),
  nodeType: z.string().optional(),
  parent: z.string().nullish(),
  parentKey: z.string().nullish(),
  sibling: z.array(z.string()).optional(),
  // A string for ordinary steps, an array for routers, absent (or null) at the end of a path.
  next: z.union([z.string(), z.array(z.string())]).nullish(),
  attributes: z
    .record(z.string(), z.unknown())
    .default({})
    .superRefine((attributes, ctx) => checkTexts(attributes, ctx, [])),
});

export const workflowDefinitionSchema = z
  .looseObject({
    _id: workflowId.optional(),
    id: workflowId.optional(),
    locationId: id,
    name: label,
    status: z.enum(['draft', 'published']),
    version: z.number().int().min(0).max(2_147_483_647).optional(),
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
    senderAddress: z
      .looseObject({ fromName: z.string().nullish(), fromEmail: z.string().nullish() })
      .nullable()
      .default(null),
    triggers: z.array(triggerSchema).max(DEFINITION_LIMITS.triggers),
    workflowData: z.looseObject({ templates: z.array(stepSchema).max(DEFINITION_LIMITS.steps) }),
  })
  .superRefine((def, ctx) => {
    if (!def.id && !def._id) ctx.addIssue({ code: 'custom', path: ['id'], message: 'either id or _id is required' });
    const seen = new Set<string>();
    def.workflowData.templates.forEach((step, index) => {
      if (seen.has(step.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['workflowData', 'templates', index, 'id'],
          message: `duplicate step id "${step.id}"`,
        });
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
  customFields: z
    .array(z.looseObject({ id, name: z.string().default(''), fieldKey: z.string().optional() }))
    .default([]),
  customValues: z
    .array(z.looseObject({ id, name: z.string().default(''), fieldKey: z.string().optional() }))
    .default([]),
  calendars: z.array(named).default([]),
  pipelines: z
    .array(z.looseObject({ id, name: z.string().default(''), stages: z.array(named).default([]) }))
    .default([]),
  users: z.array(z.looseObject({ id, name: z.string().default(''), deleted: z.boolean().optional() })).default([]),
  forms: z.array(named).default([]),
});

/** `_locations.json`: the inventory of every location of an account, by location id. */
export const accountInventorySchema = z.looseObject({ locations: z.record(z.string(), locationInventorySchema) });

export type LocationInventory = z.infer<typeof locationInventorySchema>;
export type AccountInventory = z.infer<typeof accountInventorySchema>;

function toIssues(error: z.ZodError, input?: unknown): InputIssue[] {
  const issues = error.issues
    .slice(0, DEFINITION_LIMITS.issues)
    .map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  // The id refinement only runs once the shape is valid; report it with the other problems.
  if (input !== undefined && typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const { id: a, _id: b } = input as Record<string, unknown>;
    const hasId = (typeof a === 'string' && a !== '') || (typeof b === 'string' && b !== '');
    if (!hasId && !issues.some((i) => i.path === 'id'))
      issues.unshift({ path: 'id', message: 'either id or _id is required' });
  }
  // A hostile input can hold tens of thousands of problems: the first ones and the total are enough to fix it.
  const more = error.issues.length - DEFINITION_LIMITS.issues;
  if (more > 0)
    issues.push({
      path: '',
      message: `${more} more problem${more === 1 ? '' : 's'} not listed (${error.issues.length} in total)`,
    });
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
  if (!result.success)
    throw new InvalidDefinitionError('workflow', toIssues(result.error, input), source, { cause: result.error });
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
  if (!result.success)
    throw new InvalidDefinitionError('inventory', toIssues(result.error), source, { cause: result.error });
  return result.data;
}

/** The workflow's id: `id`, else `_id` (GHL sends both with the same value). */
export function workflowIdOf(def: Pick<WorkflowDefinition, 'id' | '_id'>): string {
  return def.id || def._id || '';
}
