import { describe, expect, it } from 'vitest';
import { healthScore, locationScore, scoreBand } from './score.js';
import type { Severity } from './rules/types.js';

const f = (ruleId: string, severity: Severity) => ({ ruleId, severity });

describe('healthScore', () => {
  it('is 100 without findings and with info findings only', () => {
    expect(healthScore([])).toBe(100);
    expect(healthScore([f('email.default-sender', 'info'), f('email.default-sender', 'info')])).toBe(100);
  });

  it('subtracts the severity weights', () => {
    expect(healthScore([f('a', 'high')])).toBe(80);
    expect(healthScore([f('a', 'medium'), f('b', 'low')])).toBe(89);
  });

  it('halves each repeat of the same rule: 8 + 4 + 2', () => {
    expect(
      healthScore([
        f('timing.back-to-back-messages', 'medium'),
        f('timing.back-to-back-messages', 'medium'),
        f('timing.back-to-back-messages', 'medium'),
      ]),
    ).toBe(86);
  });

  it('bounds one rule at twice its weight however many findings it has', () => {
    expect(healthScore(Array.from({ length: 50 }, () => f('a', 'high')))).toBe(60);
  });

  it('caps at 40 with a critical finding', () => {
    expect(healthScore([f('loop.tag-retrigger', 'critical')])).toBe(40);
    expect(healthScore([f('loop.tag-retrigger', 'critical'), f('x', 'high')])).toBe(40);
    expect(healthScore([f('loop.tag-retrigger', 'critical'), f('x', 'high'), f('y', 'high')])).toBe(20);
    // The cap applies to a high score too: 100 - 40 = 60 -> 40.
    expect(healthScore([f('loop.goto-cycle-no-wait', 'critical'), f('email.default-sender', 'info')])).toBe(40);
  });

  it('floors at 0 and rounds', () => {
    expect(healthScore(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => f(id, 'high')))).toBe(0);
    // 100 - (3 + 1.5) = 95.5 rounds to 96
    expect(healthScore([f('a', 'low'), f('a', 'low')])).toBe(96);
  });

  it('reproduces the catalog worked examples', () => {
    // dental-reactivation-campaign: 40 + 20 + 20 + 8 + 8 + 8 + 8 + 3 = 115 -> 0
    const reactivation = [
      f('loop.tag-retrigger', 'critical'),
      f('compliance.sms-no-opt-out', 'high'),
      f('timing.no-send-window', 'high'),
      f('timing.back-to-back-messages', 'medium'),
      f('exit.no-response-handling', 'medium'),
      f('reentry.allow-multiple-nurture', 'medium'),
      f('content.unknown-custom-value', 'medium'),
      f('exit.no-goal', 'low'),
    ];
    expect(healthScore(reactivation)).toBe(0);
    expect(healthScore([f('a', 'high'), f('b', 'high'), f('c', 'high')])).toBe(40);
  });
});

describe('scoreBand', () => {
  it.each([
    [100, 'healthy'],
    [90, 'healthy'],
    [89, 'needs-attention'],
    [70, 'needs-attention'],
    [69, 'at-risk'],
    [40, 'at-risk'],
    [39, 'critical'],
    [0, 'critical'],
  ])('%i is %s', (score, band) => expect(scoreBand(score)).toBe(band));
});

describe('locationScore', () => {
  it('weights published workflows 1 and drafts 0.25', () => {
    expect(
      locationScore([
        { status: 'published', score: 100 },
        { status: 'draft', score: 0 },
      ]),
    ).toBe(80);
    expect(
      locationScore([
        { status: 'published', score: 60 },
        { status: 'published', score: 40 },
      ]),
    ).toBe(50);
  });
  it('is null without workflows', () => {
    expect(locationScore([])).toBeNull();
  });
});
