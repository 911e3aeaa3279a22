import { asArray, asObject, gotoTarget, isBranchAnchor, isConditionNode, isGoto } from '../attributes.js';
import { FILTERABLE_TRIGGER_TYPES } from '../constants.js';
import { label, type Rule } from './types.js';

export const brokenNextPointer: Rule = {
  number: 4,
  id: 'structure.broken-next-pointer',
  severity: 'critical',
  title: 'Step points to a missing step',
  fix: 'Reconnect the step in the builder',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph }) {
    for (const [stepId, missing] of graph.danglingNext) {
      yield {
        stepId,
        message: `${label(graph.byId.get(stepId)!)} continues to ${missing.map((m) => `"${m}"`).join(', ')}, which does not exist: contacts stop here.`,
      };
    }
  },
};

export const noTrigger: Rule = {
  number: 6,
  id: 'structure.no-trigger',
  severity: 'high',
  title: 'Published workflow can never start',
  fix: 'Add or enable a trigger, or unpublish',
  granularity: 'workflow',
  scope: 'cross-workflow',
  *check({ def, workflowId, facts, location }) {
    // A draft never fires this rule (§4 notes).
    if (def.status !== 'published' || facts.activeTriggers.length > 0) return;
    if (location?.enrolledByOthers.has(workflowId)) return;
    const inactive = def.triggers.length;
    yield {
      message:
        inactive > 0
          ? `The workflow is published but all ${inactive} trigger(s) are inactive and no other published workflow adds contacts to it.`
          : 'The workflow is published but has no trigger and no other published workflow adds contacts to it.',
    };
  },
};

export const noActions: Rule = {
  number: 7,
  id: 'structure.no-actions',
  severity: 'high',
  title: 'Workflow has no actions',
  fix: 'Add actions or delete the workflow',
  granularity: 'workflow',
  scope: 'workflow',
  *check({ graph }) {
    if (graph.steps.length === 0) yield { message: 'The workflow has no steps: contacts that enter it do nothing.' };
  },
};

export const noConditions: Rule = {
  number: 8,
  id: 'branch.no-conditions',
  severity: 'high',
  title: 'If/else with no conditions',
  fix: 'Add a real condition (every contact falls to "None" now)',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph }) {
    for (const step of graph.steps) {
      if (!isConditionNode(step)) continue;
      const branches = asArray(step.attributes['branches']);
      const hasCondition = branches.some((branch) =>
        asArray(asObject(branch)?.['segments']).some(
          (segment) => asArray(asObject(segment)?.['conditions']).length > 0,
        ),
      );
      if (!hasCondition)
        yield {
          stepId: step.id,
          message: `${label(step)} has no condition in any branch, so every contact takes the "None" path.`,
        };
    }
  },
};

export const gotoInvalidTarget: Rule = {
  number: 9,
  id: 'structure.goto-invalid-target',
  severity: 'high',
  title: 'Go-to targets a missing step',
  fix: 'Point the go-to at an existing step',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph }) {
    for (const step of graph.steps) {
      if (!isGoto(step)) continue;
      const target = gotoTarget(step);
      if (!target) yield { stepId: step.id, message: `${label(step)} has no target step.` };
      else if (!graph.byId.has(target))
        yield {
          stepId: step.id,
          message: `${label(step)} jumps to "${target}", which does not exist: contacts stop here.`,
        };
    }
  },
};

export const unfilteredTrigger: Rule = {
  number: 10,
  id: 'trigger.unfiltered',
  severity: 'high',
  title: 'Trigger has no filter',
  fix: 'Filter by form, calendar, pipeline, stage or tag',
  granularity: 'trigger',
  scope: 'workflow',
  *check({ facts, graph }) {
    for (const trigger of facts.activeTriggers) {
      if (!FILTERABLE_TRIGGER_TYPES.has(trigger.type) || trigger.conditions.length > 0) continue;
      const target = trigger.targetActionId;
      yield {
        triggerId: trigger.id,
        ...(target && graph.byId.has(target) ? { stepId: target } : {}),
        message: `Trigger "${trigger.name || trigger.id}" (${trigger.type}) has no filter, so every ${trigger.type.replace(/_/g, ' ')} event in the location enrols the contact.`,
      };
    }
  },
};

export const orphanStep: Rule = {
  number: 22,
  id: 'structure.orphan-step',
  severity: 'medium',
  title: 'Disconnected step',
  fix: 'Connect it or delete it',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph }) {
    for (const step of graph.byId.values()) {
      if (!graph.reachable.has(step.id))
        yield { stepId: step.id, message: `${label(step)} cannot be reached from the trigger, so it never runs.` };
    }
  },
};

export const emptyBranches: Rule = {
  number: 23,
  id: 'branch.empty-branches',
  severity: 'medium',
  title: 'If/else does nothing',
  fix: 'Add actions or remove the if/else',
  granularity: 'step',
  scope: 'workflow',
  *check({ graph }) {
    for (const step of graph.steps) {
      if (!isConditionNode(step)) continue;
      // The graph links a node to its anchors by its next array and by the anchors' `parent`.
      const anchors = (graph.successors.get(step.id) ?? []).filter((id) => isBranchAnchor(graph.byId.get(id)!));
      const anyAction = anchors.some((id) => (graph.successors.get(id) ?? []).length > 0 || graph.danglingNext.has(id));
      if (!anyAction)
        yield {
          stepId: step.id,
          message: `No branch of ${label(step)} (including "None") has a step after it, so the if/else ends the workflow for everyone.`,
        };
    }
  },
};
