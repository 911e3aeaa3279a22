import { classifyWait, isOutboundMessage, type WaitKind } from './attributes.js';
import { buildStepGraph } from './graph.js';
import {
  createLocationContext,
  type LocationContext,
  type LocationContextInput,
  type WorkflowSummary,
} from './location.js';
import { AnalysisError } from './errors.js';
import { RULES, RULES_BY_ID } from './rules/index.js';
import type { Rule, RuleContext, Severity, WorkflowFacts } from './rules/types.js';
import {
  parseAccountInventory,
  parseWorkflowDefinition,
  workflowIdOf,
  type AccountInventory,
  type LocationInventory,
  type WorkflowDefinition,
} from './schema.js';
import { healthScore, locationScore, scoreBand, type Band } from './score.js';

export interface Finding {
  ruleId: string;
  severity: Severity;
  title: string;
  /** The step the finding is about; absent for workflow-level findings and trigger findings without a target. */
  stepId?: string;
  /** The trigger the finding is about (trigger-level and trigger reference findings). */
  triggerId?: string;
  message: string;
  fix: string;
}

export interface WorkflowAnalysis {
  workflowId: string;
  name: string;
  locationId: string;
  status: 'draft' | 'published';
  version: number | undefined;
  score: number;
  band: Band;
  findings: Finding[];
}

export interface AnalyzeWorkflowOptions {
  /**
   * The workflow's location (inventory, other workflows), from `createLocationContext`; it must be
   * the workflow's own location. Without it, cross-workflow and inventory checks are skipped.
   * @default undefined
   */
  location?: LocationContext;
  /** Run only these rules (by id); an unknown id throws `UNKNOWN_RULE`. @default every rule */
  rules?: readonly string[];
}

function computeFacts(def: WorkflowDefinition): WorkflowFacts {
  const waits = new Map<string, WaitKind>();
  let total = 0;
  let outbound = 0;
  let hasGoal = false;
  for (const step of def.workflowData.templates) {
    if (step.type === 'wait') {
      const kind = classifyWait(step);
      waits.set(step.id, kind);
      // Only explicit time waits count (§4.1 item 2); an untyped wait is still checked by rule 26.
      if (kind.kind === 'time' && step.attributes['type'] === 'time') total += kind.minutes;
    }
    if (isOutboundMessage(step)) outbound++;
    if (step.type === 'workflow_goal') hasGoal = true;
  }
  return {
    totalTimeWaitMinutes: total,
    outboundMessages: outbound,
    hasGoal,
    waits,
    activeTriggers: def.triggers.filter((t) => t.active),
  };
}

function toFinding(rule: Rule, hit: { stepId?: string; triggerId?: string; message: string }): Finding {
  return {
    ruleId: rule.id,
    severity: rule.severity,
    title: rule.title,
    ...(hit.stepId !== undefined ? { stepId: hit.stepId } : {}),
    ...(hit.triggerId !== undefined ? { triggerId: hit.triggerId } : {}),
    message: hit.message,
    fix: rule.fix,
  };
}

/**
 * Analyses one workflow definition. `input` is validated first: anything that is not a canonical
 * definition throws `InvalidDefinitionError` listing every problem.
 */
export function analyzeWorkflow(input: unknown, options: AnalyzeWorkflowOptions = {}): WorkflowAnalysis {
  const def = parseWorkflowDefinition(input);
  return analyzeParsed(def, options);
}

/** `analyzeWorkflow` for a definition that already passed `parseWorkflowDefinition`. */
export function analyzeParsed(def: WorkflowDefinition, options: AnalyzeWorkflowOptions = {}): WorkflowAnalysis {
  const workflowId = workflowIdOf(def);
  const { location } = options;
  if (location && location.locationId !== def.locationId) {
    throw new AnalysisError(
      'LOCATION_MISMATCH',
      `Workflow ${workflowId} belongs to location ${def.locationId}, not to the given location ${location.locationId}`,
    );
  }
  const unknown = options.rules?.filter((id) => !RULES_BY_ID.has(id)) ?? [];
  if (unknown.length > 0) throw new AnalysisError('UNKNOWN_RULE', `Unknown rule id(s): ${unknown.join(', ')}`);
  const ctx: RuleContext = { def, workflowId, graph: buildStepGraph(def), facts: computeFacts(def), location };
  const only = options.rules ? new Set(options.rules) : undefined;
  const findings: Finding[] = [];
  for (const rule of RULES) {
    if (only && !only.has(rule.id)) continue;
    const seen = new Set<string>();
    for (const hit of rule.check(ctx)) {
      // Granularity guard: one finding per holder (step or trigger), or one per workflow.
      const key = rule.granularity === 'workflow' ? '' : `${hit.stepId ?? ''}|${hit.triggerId ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push(toFinding(rule, hit));
    }
  }
  const score = healthScore(findings);
  return {
    workflowId,
    name: def.name,
    locationId: def.locationId,
    status: def.status,
    version: def.version,
    score,
    band: scoreBand(score),
    findings,
  };
}

export interface LocationAnalysis {
  locationId: string;
  /** Mean workflow score, published 1 and drafts 0.25; null without workflows. */
  score: number | null;
  band: Band | null;
  workflows: WorkflowAnalysis[];
}

export interface AnalyzeAccountOptions {
  /** The account inventory (`{ locations: { [locationId]: inventory } }`, like `_locations.json`); validated. */
  inventory?: unknown;
  /**
   * Whether the definitions are every workflow of their locations (a full export), so that an
   * add/remove-workflow target not among them is reported missing.
   * @default true
   */
  workflowsComplete?: boolean;
}

export interface AccountAnalysis {
  locations: LocationAnalysis[];
  /** One analysis per input definition, in input order. */
  workflows: WorkflowAnalysis[];
}

export interface AnalyzeLocationInput {
  locationId: string;
  /** Definitions of the location's workflows (unparsed input is validated). */
  definitions: readonly unknown[];
  inventory?: LocationInventory;
  /** Every workflow of the location, including those without a definition. */
  workflows?: readonly WorkflowSummary[];
  /** See `AnalyzeAccountOptions.workflowsComplete`. @default true */
  workflowsComplete?: boolean;
}

/** Analyses every workflow of one location together, with the cross-workflow rules. */
export function analyzeLocation(input: AnalyzeLocationInput): LocationAnalysis {
  const defs = input.definitions.map((d) => parseWorkflowDefinition(d));
  const stranger = defs.find((d) => d.locationId !== input.locationId);
  if (stranger) {
    throw new AnalysisError(
      'LOCATION_MISMATCH',
      `Workflow ${workflowIdOf(stranger)} belongs to location ${stranger.locationId}, not to ${input.locationId}`,
    );
  }
  return analyzeParsedLocation({ ...input, definitions: defs });
}

function analyzeParsedLocation(
  input: LocationContextInput & { definitions: readonly WorkflowDefinition[] },
): LocationAnalysis {
  const { definitions } = input;
  const location = createLocationContext(input);
  const analyses = definitions.map((d) => analyzeParsed(d, { location }));
  const score = locationScore(analyses);
  return { locationId: input.locationId, score, band: score === null ? null : scoreBand(score), workflows: analyses };
}

/**
 * Analyses workflows of several locations as one account (the fixture folder layout): workflows
 * are grouped by `locationId`, and each location uses its entry of `inventory` if there is one.
 * Results keep the input order.
 */
export function analyzeAccount(definitions: readonly unknown[], options: AnalyzeAccountOptions = {}): AccountAnalysis {
  const defs = definitions.map((d) => parseWorkflowDefinition(d));
  const inv: AccountInventory | undefined =
    options.inventory === undefined ? undefined : parseAccountInventory(options.inventory);
  const complete = options.workflowsComplete ?? true;
  const byLocation = new Map<string, WorkflowDefinition[]>();
  for (const d of defs) {
    const list = byLocation.get(d.locationId) ?? [];
    list.push(d);
    byLocation.set(d.locationId, list);
  }
  const locations = [...byLocation].map(([id, list]) => {
    // Own properties only: a location id such as "constructor" must not find Object.prototype members.
    const inventory = inv && Object.hasOwn(inv.locations, id) ? inv.locations[id] : undefined;
    return analyzeParsedLocation({
      locationId: id,
      definitions: list,
      ...(inventory ? { inventory } : {}),
      workflowsComplete: complete,
    });
  });
  const byDef = new Map<WorkflowDefinition, WorkflowAnalysis>();
  for (const [i, [, list]] of [...byLocation].entries())
    list.forEach((d, j) => byDef.set(d, locations[i]!.workflows[j]!));
  return { locations, workflows: defs.map((d) => byDef.get(d)!) };
}
