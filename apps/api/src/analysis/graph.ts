import { gotoTarget, isBranchAnchor, isGoto, nextIds } from './attributes.js';
import type { Step, WorkflowDefinition } from './schema.js';

/**
 * The step graph of one workflow: nodes are templates, edges are `next` pointers (string or
 * array; branch anchors included) plus go-to targets. Entries are the targets of active triggers.
 */
export interface StepGraph {
  readonly steps: readonly Step[];
  readonly byId: ReadonlyMap<string, Step>;
  /** Existing successors of each step, next pointers first, then the go-to target. */
  readonly successors: ReadonlyMap<string, readonly string[]>;
  /** Ids in `next` that name no step, per step. */
  readonly danglingNext: ReadonlyMap<string, readonly string[]>;
  /** Entry step ids (§4.1 item 5). */
  readonly entries: readonly string[];
  /** Steps reachable from an entry. */
  readonly reachable: ReadonlySet<string>;
}

export function buildStepGraph(def: WorkflowDefinition): StepGraph {
  const steps = def.workflowData.templates;
  const byId = new Map<string, Step>();
  for (const step of steps) if (!byId.has(step.id)) byId.set(step.id, step);

  // Branch anchors hang off their condition node by `parent` even when its next array omits them.
  const anchorsOf = new Map<string, string[]>();
  for (const step of byId.values()) {
    if (isBranchAnchor(step) && step.parent && byId.has(step.parent)) {
      const list = anchorsOf.get(step.parent) ?? [];
      list.push(step.id);
      anchorsOf.set(step.parent, list);
    }
  }

  const successors = new Map<string, string[]>();
  const danglingNext = new Map<string, string[]>();
  for (const step of byId.values()) {
    const out: string[] = [];
    const dangling: string[] = [];
    for (const target of nextIds(step)) (byId.has(target) ? out : dangling).push(target);
    for (const anchor of anchorsOf.get(step.id) ?? []) if (!out.includes(anchor)) out.push(anchor);
    if (isGoto(step)) {
      const target = gotoTarget(step);
      if (target && byId.has(target)) out.push(target);
    }
    successors.set(step.id, out);
    if (dangling.length > 0) danglingNext.set(step.id, dangling);
  }

  // Entries: targets of active triggers that exist; else the first template by array position.
  const entries: string[] = [];
  for (const trigger of def.triggers) {
    const target = trigger.targetActionId;
    if (trigger.active && target && byId.has(target) && !entries.includes(target)) entries.push(target);
  }
  if (entries.length === 0 && steps.length > 0) entries.push(steps[0]!.id);

  return { steps, byId, successors, danglingNext, entries, reachable: reach(entries, successors) };
}

/** Every node reachable from `starts` (the starts included). Iterative, linear in edges. */
export function reach(starts: Iterable<string>, successors: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set<string>();
  const stack: string[] = [];
  for (const s of starts) {
    if (!seen.has(s)) {
      seen.add(s);
      stack.push(s);
    }
  }
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const next of successors.get(node) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}

/**
 * Strongly connected components (iterative Tarjan). Returns the components that contain a cycle:
 * more than one node, or one node with an edge to itself. Linear in nodes plus edges.
 */
export function cyclicComponents(nodes: Iterable<string>, successors: (node: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let counter = 0;

  for (const root of nodes) {
    if (index.has(root)) continue;
    // Each frame: the node and the position in its successor list.
    const frames: { node: string; succ: readonly string[]; i: number }[] = [];
    const open = (node: string) => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      frames.push({ node, succ: successors(node), i: 0 });
    };
    open(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.i < frame.succ.length) {
        const next = frame.succ[frame.i++]!;
        if (!index.has(next)) open(next);
        else if (onStack.has(next)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(next)!));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1 || frame.succ.includes(frame.node)) result.push(component.reverse());
      }
    }
  }
  return result;
}
