import { asStrings, isGoto } from '../attributes.js';
import { cyclicComponents } from '../graph.js';
import { addedTags, enrolmentTargets, fieldIdentity, triggerTags } from '../location.js';
import { label, type Rule, type RuleHit } from './types.js';

export const tagRetrigger: Rule = {
  number: 1,
  id: 'loop.tag-retrigger',
  severity: 'critical',
  title: 'Workflow re-triggers itself via its own tag',
  fix: "Don't re-add the trigger tag, or turn off re-entry",
  granularity: 'workflow',
  scope: 'workflow',
  *check({ def, workflowId, graph }) {
    if (!def.allowMultiple) return;
    const added = addedTags(def);
    for (const trigger of def.triggers) {
      for (const tag of triggerTags(trigger)) {
        const stepId = added.get(tag);
        if (stepId === undefined) continue;
        const step = graph.byId.get(stepId)!;
        yield {
          stepId,
          message: `Trigger "${trigger.name || trigger.id}" starts on tag "${tag}", ${label(step)} adds that tag again and re-entry is allowed, so every contact loops until GHL's loop lock stops them.`,
        };
        return;
      }
    }
    // The same loop without tags: the workflow enrols contacts into itself with re-entry on.
    const selfStep = enrolmentTargets(def).get(workflowId);
    if (selfStep !== undefined) {
      yield {
        stepId: selfStep,
        message: `${label(graph.byId.get(selfStep)!)} adds contacts to this same workflow and re-entry is allowed, so every contact loops until GHL's loop lock stops them.`,
      };
    }
  },
};

export const fieldChangeRetrigger: Rule = {
  number: 2,
  id: 'loop.field-change-retrigger',
  severity: 'critical',
  title: 'Field-change trigger rewrites its own field',
  fix: 'Guard with an if/else or write a different field',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ def, graph, location }) {
    if (!def.allowMultiple) return;
    const inventory = location?.inventory;
    const watched = new Map<string, string>();
    for (const trigger of def.triggers) {
      if (!trigger.active || trigger.type !== 'contact_changed') continue;
      // The watched field is the "has changed" condition's; other conditions are filters.
      const changed = trigger.conditions.filter((c) => c.operator === 'has-changed');
      for (const c of changed.length > 0 ? changed : trigger.conditions) {
        if (c.field) watched.set(fieldIdentity(c.field, inventory), c.field);
      }
    }
    if (watched.size === 0) return;
    for (const step of graph.steps) {
      if (step.type !== 'update_contact_field' && step.type !== 'create_update_contact') continue;
      for (const entry of Array.isArray(step.attributes['fields']) ? step.attributes['fields'] : []) {
        const field = asStrings((entry as Record<string, unknown> | null)?.['field'])[0];
        if (!field) continue;
        const trigField = watched.get(fieldIdentity(field, inventory));
        if (trigField !== undefined) {
          yield {
            stepId: step.id,
            message: `The workflow starts when field "${trigField}" changes, ${label(step)} writes that field and re-entry is allowed, so each run starts the next one.`,
          };
          return;
        }
      }
    }
  },
};

export const gotoCycleNoWait: Rule = {
  number: 3,
  id: 'loop.goto-cycle-no-wait',
  severity: 'critical',
  title: 'Go-to loop without a wait',
  fix: 'Add a wait and an exit condition inside the loop',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ graph }) {
    // A cycle without a wait is a cycle in the graph with every wait removed.
    const isWait = (id: string) => graph.byId.get(id)?.type === 'wait';
    const nodes = [...graph.byId.keys()].filter((id) => !isWait(id));
    const components = cyclicComponents(nodes, (id) => (graph.successors.get(id) ?? []).filter((n) => !isWait(n)));
    const first = components[0];
    if (!first) return;
    const anchor = first.find((id) => isGoto(graph.byId.get(id)!)) ?? first[0]!;
    const names = first.slice(0, 5).map((id) => label(graph.byId.get(id)!));
    yield {
      stepId: anchor,
      message: `Steps ${names.join(' -> ')}${first.length > 5 ? ' ...' : ''} form a loop with no wait: a contact runs it as fast as GHL executes until the loop lock stops it.`,
    };
  },
};

export const crossWorkflowLoop: Rule = {
  number: 5,
  id: 'loop.cross-workflow',
  severity: 'high',
  title: 'Workflows enrol each other in a cycle',
  fix: 'Break the cycle with a guard tag or a goal',
  granularity: 'workflow',
  scope: 'cross-workflow',
  *check({ def, workflowId, location }): Iterable<RuleHit> {
    if (def.status !== 'published' || !location) return;
    const peers = location.enrolmentCycles.get(workflowId);
    if (!peers || peers.length === 0) return;
    yield {
      message: `This workflow and ${location.namesOf(peers).join(', ')} enrol each other (by tag or add-to-workflow), so a contact can cycle between them indefinitely.`,
    };
  },
};
