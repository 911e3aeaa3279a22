import { asArray, asObject, asString, asStrings, collectStrings } from '../attributes.js';
import { standardContactField, type InventoryIndex } from '../location.js';
import type { Step, Trigger } from '../schema.js';
import { classifyWebhookUrl } from '../url.js';
import { label, stepsOfType, type Rule, type RuleContext, type RuleHit } from './types.js';

const WORKFLOW_REF_TYPES = ['add_to_workflow', 'remove_from_workflow'];

export const missingWorkflow: Rule = {
  number: 16,
  id: 'reference.missing-workflow',
  severity: 'high',
  title: 'Add/remove-workflow points nowhere',
  fix: 'Select an existing workflow',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    for (const step of stepsOfType(ctx, ...WORKFLOW_REF_TYPES)) {
      const targets = asStrings(step.attributes['workflow_id']).filter((t) => t.trim() !== '');
      if (targets.length === 0) {
        yield { stepId: step.id, message: `${label(step)} has no workflow selected, so it does nothing.` };
        continue;
      }
      // Existence is only known when the caller described the location's workflows.
      const known = ctx.location?.workflowsComplete ? ctx.location.workflows : undefined;
      const missing = known ? targets.filter((t) => !known.has(t)) : [];
      if (missing.length > 0)
        yield {
          stepId: step.id,
          message: `${label(step)} points at workflow ${missing.map((m) => `"${m}"`).join(', ')}, which does not exist in this location.`,
        };
    }
  },
};

export const draftWorkflow: Rule = {
  number: 30,
  id: 'reference.draft-workflow',
  severity: 'medium',
  title: 'Enrols contacts into a draft',
  fix: 'Publish the target or change the step',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    const known = ctx.location?.workflows;
    if (!known) return;
    for (const step of stepsOfType(ctx, 'add_to_workflow')) {
      const drafts = asStrings(step.attributes['workflow_id']).filter((t) => known.get(t)?.status === 'draft');
      if (drafts.length > 0) {
        yield {
          stepId: step.id,
          message: `${label(step)} enrols contacts into ${ctx.location!.namesOf(drafts).join(', ')}, which is a draft and does nothing with them.`,
        };
      }
    }
  },
};

/** The contact_detail conditions of an if/else node (tags are values, not fields). */
function conditionsOf(step: Step): Record<string, unknown>[] {
  if (step.type !== 'if_else') return [];
  return asArray(step.attributes['branches']).flatMap((b) =>
    asArray(asObject(b)?.['segments']).flatMap((s) =>
      asArray(asObject(s)?.['conditions'])
        .map(asObject)
        .filter((c) => c !== undefined),
    ),
  );
}

/** Runs `check` over active triggers and steps; one finding per holder with bad references. */
function* perHolder(
  ctx: RuleContext,
  fromTrigger: (t: Trigger, inv: InventoryIndex) => string[],
  fromStep: (s: Step, inv: InventoryIndex) => string[],
  describe: (bad: string[]) => string,
): Iterable<RuleHit> {
  const inv = ctx.location?.inventory;
  if (!inv) return;
  // Only active triggers count (§4.1 item 7).
  for (const trigger of ctx.facts.activeTriggers) {
    const bad = unique(fromTrigger(trigger, inv));
    if (bad.length > 0)
      yield { triggerId: trigger.id, message: `Trigger "${trigger.name || trigger.id}" references ${describe(bad)}.` };
  }
  for (const step of ctx.graph.steps) {
    const bad = unique(fromStep(step, inv));
    if (bad.length > 0) yield { stepId: step.id, message: `${label(step)} references ${describe(bad)}.` };
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function list(noun: string, bad: string[]): string {
  return `${bad.length === 1 ? `a ${noun}` : `${noun}s`} that no longer exist${bad.length === 1 ? 's' : ''}: ${bad.map((b) => `"${b}"`).join(', ')}`;
}

function triggerValues(trigger: Trigger, field: string): string[] {
  return trigger.conditions.filter((c) => c.field === field).flatMap((c) => asStrings(c.value));
}

function isKnownField(ref: string, inv: InventoryIndex): boolean {
  return inv.customFields.has(ref) || standardContactField(ref) !== undefined;
}

export const missingCustomField: Rule = {
  number: 17,
  id: 'reference.missing-custom-field',
  severity: 'high',
  title: 'Deleted custom field referenced',
  fix: 'Re-map to an existing field',
  granularity: 'reference',
  scope: 'workflow',
  check: (ctx) =>
    perHolder(
      ctx,
      (t, inv) =>
        t.type === 'contact_changed'
          ? t.conditions.map((c) => c.field).filter((f) => f !== '' && !isKnownField(f, inv))
          : [],
      (s, inv) => {
        const refs: string[] = [];
        if (s.type === 'update_contact_field' || s.type === 'create_update_contact') {
          for (const entry of asArray(s.attributes['fields'])) {
            const field = asString(asObject(entry)?.['field']);
            if (field) refs.push(field);
          }
        }
        for (const c of conditionsOf(s)) {
          const sub = asString(c['conditionSubType']);
          if (c['conditionType'] === 'contact_detail' && sub && sub !== 'tags') refs.push(sub);
        }
        return refs.filter((f) => !isKnownField(f, inv));
      },
      (bad) => list('custom field', bad),
    ),
};

function badPipelineRefs(
  pipelineId: string | undefined,
  stageId: string | undefined,
  inv: InventoryIndex,
  stageRequired: boolean,
): string[] {
  const bad: string[] = [];
  const stages = pipelineId ? inv.stagesByPipeline.get(pipelineId) : undefined;
  if (!pipelineId || !stages) bad.push(pipelineId ? `pipeline ${pipelineId}` : 'an empty pipeline');
  if (stageId) {
    // A stage of another pipeline is as missing as a deleted one (§4.1 item 8).
    if (stages ? !stages.has(stageId) : !inv.allStages.has(stageId)) bad.push(`stage ${stageId}`);
  } else if (stageRequired) bad.push('an empty stage');
  return bad;
}

export const missingPipeline: Rule = {
  number: 18,
  id: 'reference.missing-pipeline',
  severity: 'high',
  title: 'Deleted pipeline or stage referenced',
  fix: 'Re-select the pipeline and stage',
  granularity: 'reference',
  scope: 'workflow',
  check: (ctx) =>
    perHolder(
      ctx,
      (t, inv) => {
        const pipelines = triggerValues(t, 'opportunity.pipelineId').filter((p) => p !== '');
        const stages = triggerValues(t, 'opportunity.pipelineStageId').filter((p) => p !== '');
        const bad = pipelines.filter((p) => !inv.stagesByPipeline.has(p)).map((p) => `pipeline ${p}`);
        const allowed =
          pipelines.length > 0
            ? new Set(pipelines.flatMap((p) => [...(inv.stagesByPipeline.get(p) ?? [])]))
            : inv.allStages;
        return [...bad, ...stages.filter((s) => !allowed.has(s)).map((s) => `stage ${s}`)];
      },
      (s, inv) => {
        const a = s.attributes;
        if (s.type === 'create_opportunity')
          return badPipelineRefs(asString(a['pipeline_id'])?.trim(), asString(a['stage_id'])?.trim(), inv, true);
        // Other opportunity steps (find, update) only when they name a pipeline.
        const pipelineId = asString(a['pipeline_id'])?.trim();
        return pipelineId ? badPipelineRefs(pipelineId, asString(a['stage_id'])?.trim(), inv, false) : [];
      },
      (bad) => `${bad.join(' and ')}, not found in the location's pipelines`,
    ),
};

export const missingCalendar: Rule = {
  number: 19,
  id: 'reference.missing-calendar',
  severity: 'high',
  title: 'Deleted calendar referenced',
  fix: 'Re-select the calendar',
  granularity: 'reference',
  scope: 'workflow',
  check: (ctx) =>
    perHolder(
      ctx,
      (t, inv) => triggerValues(t, 'appointment.calendarId').filter((c) => c !== '' && !inv.calendars.has(c)),
      (s, inv) => {
        const refs: string[] = [];
        for (const c of conditionsOf(s))
          if (c['conditionType'] === 'appointment') refs.push(...asStrings(c['calendarId']));
        if (s.type === 'workflow_goal') {
          for (const segment of asArray(s.attributes['segments'])) {
            for (const c of asArray(asObject(segment)?.['conditions']))
              refs.push(...asStrings(asObject(asObject(c)?.['extras'])?.['calendarIds']));
          }
        }
        return refs.filter((c) => c !== '' && !inv.calendars.has(c));
      },
      (bad) => list('calendar', bad),
    ),
};

export const missingUser: Rule = {
  number: 31,
  id: 'reference.missing-user',
  severity: 'medium',
  title: 'Deleted or deactivated user referenced',
  fix: 'Re-assign to an active user',
  granularity: 'step',
  scope: 'workflow',
  check: (ctx) =>
    perHolder(
      ctx,
      () => [],
      (s, inv) => {
        const a = s.attributes;
        let refs: string[] = [];
        if (s.type === 'assign_user') refs = asStrings(a['user_list']);
        else if (s.type === 'task-notification') refs = asStrings(a['assigned_to']);
        else if (s.type === 'internal_notification')
          refs = [
            ...asStrings(asObject(a['notification'])?.['userIds']),
            ...asStrings(asObject(a['email'])?.['user_ids']),
          ];
        return refs.filter((u) => u.trim() !== '' && !inv.activeUsers.has(u));
      },
      (bad) => `user${bad.length === 1 ? '' : 's'} ${bad.map((b) => `"${b}"`).join(', ')}, deleted or deactivated`,
    ),
};

// Linear: a key stops at the next brace (a merge field never nests), and its length and the spaces are bounded.
const CUSTOM_VALUE_MERGE = /\{\{\s{0,20}custom_values\.([^\s{}]{1,200})\s{0,20}\}\}/g;

export const unknownCustomValue: Rule = {
  number: 33,
  id: 'content.unknown-custom-value',
  severity: 'medium',
  title: 'Merge field for an unknown custom value',
  fix: 'Create the custom value or fix the key',
  granularity: 'step',
  scope: 'workflow',
  check: (ctx) =>
    perHolder(
      ctx,
      () => [],
      (s, inv) => {
        const bad: string[] = [];
        for (const text of collectStrings(s.attributes)) {
          if (!text.includes('custom_values')) continue;
          for (const m of text.matchAll(CUSTOM_VALUE_MERGE))
            if (!inv.customValueKeys.has(m[1]!)) bad.push(`{{custom_values.${m[1]}}}`);
        }
        return bad;
      },
      (bad) => `${bad.join(', ')}, not a custom value of this location (it renders empty)`,
    ),
};

export const missingForm: Rule = {
  number: 41,
  id: 'reference.missing-form',
  severity: 'high',
  title: 'Deleted form referenced',
  fix: 'Re-select the form in the trigger',
  granularity: 'reference',
  scope: 'workflow',
  check: (ctx) =>
    perHolder(
      ctx,
      (t, inv) => triggerValues(t, 'form.id').filter((f) => f !== '' && !inv.forms.has(f)),
      () => [],
      (bad) => `${list('form', bad)}, so the trigger never fires`,
    ),
};

export const insecureWebhook: Rule = {
  number: 20,
  id: 'webhook.insecure-url',
  severity: 'high',
  title: 'Webhook over plain HTTP',
  fix: 'Use https',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    for (const step of stepsOfType(ctx, 'webhook', 'custom_webhook')) {
      if (classifyWebhookUrl(asString(step.attributes['url'])).kind === 'insecure') {
        yield {
          stepId: step.id,
          message: `${label(step)} sends contact data over plain http to ${asString(step.attributes['url'])}.`,
        };
      }
    }
  },
};

export const invalidWebhook: Rule = {
  number: 21,
  id: 'webhook.invalid-url',
  severity: 'high',
  title: 'Webhook URL unusable',
  fix: 'Point to a real public https endpoint',
  granularity: 'step',
  scope: 'workflow',
  *check(ctx) {
    for (const step of stepsOfType(ctx, 'webhook', 'custom_webhook')) {
      const verdict = classifyWebhookUrl(asString(step.attributes['url']));
      if (verdict.kind === 'invalid')
        yield { stepId: step.id, message: `${label(step)} cannot deliver: ${verdict.reason}.` };
    }
  },
};
