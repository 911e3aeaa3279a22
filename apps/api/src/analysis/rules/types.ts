import type { WaitKind } from '../attributes.js';
import type { StepGraph } from '../graph.js';
import type { LocationContext } from '../location.js';
import type { Step, Trigger, WorkflowDefinition } from '../schema.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/**
 * How many findings a rule can produce (§4.1 item 6): one per step, one per trigger, one per step
 * or trigger holding a bad reference, or one per workflow.
 */
export type Granularity = 'step' | 'trigger' | 'reference' | 'workflow';

/** Whether a rule looks only at the workflow or also at the location's other published workflows. */
export type Scope = 'workflow' | 'cross-workflow';

/** A finding before the catalog adds severity, title and fix. */
export interface RuleHit {
  stepId?: string;
  triggerId?: string;
  message: string;
}

/** Facts about one workflow that several rules share. */
export interface WorkflowFacts {
  /** Sum of valid time waits in minutes over all templates (§4.1 item 2). */
  readonly totalTimeWaitMinutes: number;
  /** `sms` and `email` steps in templates, reachable or not. */
  readonly outboundMessages: number;
  readonly hasGoal: boolean;
  readonly waits: ReadonlyMap<string, WaitKind>;
  readonly activeTriggers: readonly Trigger[];
}

export interface RuleContext {
  readonly def: WorkflowDefinition;
  readonly workflowId: string;
  readonly graph: StepGraph;
  readonly facts: WorkflowFacts;
  /** The location's context, when the caller supplied one. */
  readonly location: LocationContext | undefined;
}

export interface Rule {
  /** Catalog number (1-40; 41 and above are extensions). */
  readonly number: number;
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  readonly fix: string;
  readonly granularity: Granularity;
  readonly scope: Scope;
  check(ctx: RuleContext): Iterable<RuleHit>;
}

/** `"Step name" (type)`, for messages. */
export function label(step: Step): string {
  return step.name ? `"${step.name}" (${step.type})` : `${step.type} step ${step.id}`;
}

/** Steps of the given types, in template order. */
export function stepsOfType(ctx: RuleContext, ...types: string[]): Step[] {
  return ctx.graph.steps.filter((s) => types.includes(s.type));
}
