import { describe, expect, it } from 'vitest';
import { smsSegments } from './sms.js';

describe('smsSegments', () => {
  it('uses 160 then 153 per segment for GSM-7', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', length: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161)).segments).toBe(2);
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('counts extension characters as two septets', () => {
    expect(smsSegments('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', length: 160, segments: 1 });
    expect(smsSegments('{'.repeat(81)).segments).toBe(2);
  });

  it('switches to UCS-2 (70, then 67) for any non-GSM character', () => {
    expect(smsSegments(`é${'a'.repeat(100)}`).encoding).toBe('GSM-7');
    expect(smsSegments(`😀${'a'.repeat(68)}`)).toMatchObject({ encoding: 'UCS-2', length: 70, segments: 1 });
    expect(smsSegments(`ç${'a'.repeat(70)}`)).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(smsSegments('ж'.repeat(134)).segments).toBe(2);
    expect(smsSegments('ж'.repeat(135)).segments).toBe(3);
  });
});
