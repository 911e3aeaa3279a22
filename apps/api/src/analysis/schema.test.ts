import { describe, expect, it } from 'vitest';
import { analyzeWorkflow } from './analyze.js';
import { InvalidDefinitionError } from './errors.js';
import { parseAccountInventory, parseWorkflowDefinition, safeParseWorkflowDefinition } from './schema.js';
import { workflow } from './test-support.js';

function issuesOf(input: unknown): string[] {
  try {
    parseWorkflowDefinition(input, 'input.json');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    return (error as InvalidDefinitionError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the input to be rejected');
}

describe('workflow definition schema', () => {
  it.each([null, 42, 'text', [], true])('rejects %j with a coded error, never a crash', (input) => {
    expect(() => analyzeWorkflow(input)).toThrow(InvalidDefinitionError);
    expect(issuesOf(input).length).toBeGreaterThan(0);
  });

  it('lists every problem at once, with paths', () => {
    const issues = issuesOf({
      name: 7,
      status: 'live',
      workflowData: { templates: [{ id: '', type: 'sms', next: 5 }] },
      triggers: [{ id: 't', active: 'yes' }],
    });
    const paths = issues.map((i) => i.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'id',
        'locationId',
        'name',
        'status',
        'allowMultiple',
        'stopOnResponse',
        'triggers[0].type',
        'triggers[0].active',
        'workflowData.templates[0].id',
        'workflowData.templates[0].next',
      ]),
    );
  });

  it('names the code, the source and the count in the message', () => {
    try {
      parseWorkflowDefinition({}, 'broken.json');
      expect.unreachable();
    } catch (error) {
      const e = error as InvalidDefinitionError;
      expect(e.code).toBe('INVALID_WORKFLOW_DEFINITION');
      expect(e.message).toMatch(/^Invalid workflow definition in broken\.json \(\d+ problems\):/);
      expect(e.cause).toBeDefined();
    }
  });

  it('rejects duplicate step ids and out-of-range window hours', () => {
    const def = workflow();
    const input = {
      ...def,
      window: { days: [9], startHour: 25, endHour: 10 },
      workflowData: { templates: [...def.workflowData.templates, ...def.workflowData.templates] },
    };
    const issues = issuesOf(input);
    expect(issues.some((i) => i.startsWith('window.days[0]'))).toBe(true);
    expect(issues.some((i) => i.startsWith('window.startHour'))).toBe(true);
    // Duplicate ids are checked once the shape is valid.
    expect(
      issuesOf({ ...def, workflowData: { templates: [...def.workflowData.templates, ...def.workflowData.templates] } }),
    ).toEqual(['workflowData.templates[1].id: duplicate step id "s1"']);
  });

  it('accepts unknown extra fields, _id without id, null next and a condition without a value', () => {
    const def = workflow();
    const { id: _drop, ...withoutId } = def;
    const result = safeParseWorkflowDefinition({
      ...withoutId,
      futureField: { x: 1 },
      triggers: [{ ...def.triggers[0], conditions: [{ field: 'cf1', operator: 'has-changed' }] }],
      workflowData: { templates: [{ ...def.workflowData.templates[0], next: null, extra: true }] },
    });
    expect(result.ok).toBe(true);
  });

  it('defaults window and senderAddress to null and attributes to {}', () => {
    const def = workflow();
    const { window: _w, senderAddress: _s, ...rest } = def;
    const parsed = parseWorkflowDefinition({ ...rest, workflowData: { templates: [{ id: 'a', type: 'sms' }] } });
    expect(parsed.window).toBeNull();
    expect(parsed.senderAddress).toBeNull();
    expect(parsed.workflowData.templates[0]!.attributes).toEqual({});
  });
});

describe('inventory schema', () => {
  it('rejects a malformed inventory with INVALID_INVENTORY', () => {
    expect(() => parseAccountInventory({ locations: { a: { calendars: [{ name: 'no id' }] } } })).toThrow(
      expect.objectContaining({
        code: 'INVALID_INVENTORY',
        message: expect.stringContaining('locations.a.calendars[0].id'),
      }),
    );
  });
});
