import { describe, expect, it } from 'vitest';
import { buildStepGraph, cyclicComponents } from './graph.js';
import { chain, formTrigger, gotoStep, sms, step, wait, workflow } from './test-support.js';

describe('buildStepGraph', () => {
  it('follows next strings, router arrays, go-to targets and anchors linked only by parent', () => {
    const steps = [
      { ...sms('s1'), next: 'c1' },
      step('c1', 'if_else', { branches: [{ id: 'y', segments: [] }] }, { nodeType: 'condition-node', next: ['y'] }),
      step('y', 'if_else', {}, { nodeType: 'branch-yes', parent: 'c1', next: 'g1' }),
      step('n', 'if_else', {}, { nodeType: 'branch-no', parent: 'c1', next: 'w1' }),
      gotoStep('g1', 's1'),
      wait('w1'),
    ];
    const graph = buildStepGraph(workflow({ steps }));
    expect(graph.successors.get('c1')).toEqual(['y', 'n']);
    expect(graph.successors.get('g1')).toEqual(['s1']);
    expect([...graph.reachable].sort()).toEqual(['c1', 'g1', 'n', 's1', 'w1', 'y']);
  });

  it('takes every active trigger target as an entry, and falls back to the first template', () => {
    const steps = [sms('a'), sms('b'), sms('c')];
    const def = workflow({
      steps,
      triggers: [
        formTrigger('f', { targetActionId: 'b' }),
        formTrigger('g', { targetActionId: 'c' }),
        formTrigger('h', { targetActionId: 'a', active: false }),
      ],
    });
    expect(buildStepGraph(def).entries).toEqual(['b', 'c']);
    expect(buildStepGraph(workflow({ steps, triggers: [] })).entries).toEqual(['a']);
  });

  it('records dangling next ids without making edges of them', () => {
    const graph = buildStepGraph(workflow({ steps: chain(sms('a'), { ...sms('b'), next: ['gone', 'a'] }) }));
    expect(graph.danglingNext.get('b')).toEqual(['gone']);
    expect(graph.successors.get('b')).toEqual(['a']);
  });
});

describe('cyclicComponents', () => {
  const run = (edges: Record<string, string[]>) =>
    cyclicComponents(Object.keys(edges), (n) => edges[n] ?? []).map((c) => c.sort());

  it('finds cycles and self-loops, not acyclic paths', () => {
    expect(run({ a: ['b'], b: ['c'], c: ['a'], d: ['d'], e: ['a'] })).toEqual(
      expect.arrayContaining([['a', 'b', 'c'], ['d']]),
    );
    expect(run({ a: ['b'], b: ['c'], c: [] })).toEqual([]);
  });

  it('handles a 100,000-node chain without overflowing the stack', () => {
    const n = 100_000;
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < n; i++) edges[String(i)] = [String((i + 1) % n)];
    expect(run(edges)[0]).toHaveLength(n);
  });
});
