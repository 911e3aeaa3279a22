import { MINUTES_PER_UNIT } from './constants.js';
import type { Step } from './schema.js';

/*
 * Step attributes are type-specific and untyped in GHL's export (`Record<string, unknown>`).
 * These readers never throw: a malformed attribute reads as absent, and the rules decide what
 * absence means.
 */

export type Obj = Record<string, unknown>;

export function asObject(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A string, or every string element of an array; anything else reads as no values. */
export function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function isBlank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}

/**
 * Replaces every `open ... close` span (the shortest one from each opening) with a space, in one left-to-right pass:
 * linear in the input. An opening without a closing after it is text, and so is everything after it once no closing
 * is left (a regex such as `/<[^>]*>/g` rescans the rest from every `<` instead: quadratic on `"<".repeat(n)`).
 */
function stripSpans(text: string, open: string, close: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const start = text.indexOf(open, at);
    if (start < 0) break;
    const end = text.indexOf(close, start + open.length);
    if (end < 0) break;
    out += text.slice(at, start) + ' ';
    at = end + close.length;
  }
  return at === 0 ? text : out + text.slice(at);
}

/** Text content of an HTML fragment: comments, tags and entities for spaces removed. Linear in the input. */
export function htmlText(html: string): string {
  return stripSpans(stripSpans(html, '<!--', '-->'), '<', '>')
    .replace(/&nbsp;|&#160;|&#xa0;/gi, ' ')
    .trim();
}

/** Lower-cased, trimmed tag: GHL stores tags in lower case (§4.1 item 17). */
export function normalizeTag(tag: string): string {
  return tag.trim().toLowerCase();
}

/** The next pointers of a step as a list (string or array; absent, null and "" mean none). */
export function nextIds(step: Step): string[] {
  const { next } = step;
  if (typeof next === 'string') return next === '' ? [] : [next];
  if (Array.isArray(next)) return next.filter((n) => n !== '');
  return [];
}

export function isGoto(step: Step): boolean {
  return step.type === 'goto' || step.attributes['type'] === 'goto';
}

export function gotoTarget(step: Step): string | undefined {
  return asString(step.attributes['targetNodeId']);
}

/** The router node of an if/else (rules 8 and 23 are about if/else; other routers have other shapes). */
export function isConditionNode(step: Step): boolean {
  if (step.type !== 'if_else') return false;
  if (step.nodeType === 'condition-node') return true;
  // Exports without nodeType: an if_else that carries branches is the router, anchors carry none.
  return (
    step.nodeType === undefined && Array.isArray(step.attributes['branches']) && step.attributes['branches'].length > 0
  );
}

export function isBranchAnchor(step: Step): boolean {
  return step.nodeType === 'branch-yes' || step.nodeType === 'branch-no';
}

export function isOutboundMessage(step: Step): boolean {
  return step.type === 'sms' || step.type === 'email';
}

/** How a wait step waits. `time` waits carry their duration in minutes when it is valid. */
export type WaitKind =
  | { kind: 'time'; minutes: number }
  | { kind: 'time-invalid'; reason: string }
  | { kind: 'appointment'; valid: boolean }
  | { kind: 'other' };

export function classifyWait(step: Step): WaitKind {
  const attrs = step.attributes;
  const type = attrs['type'];
  if (type === 'appointment') {
    // `{}` counts as absent (§4.1 item 10): GHL leaves an empty startAfter on event-anchored waits.
    const anchored = hasKeys(attrs['appointmentStartAfter']) || hasKeys(attrs['startAfter']);
    return { kind: 'appointment', valid: anchored };
  }
  // A wait without a type is read as a time wait: that is the builder's default.
  if (type !== 'time' && type !== undefined) return { kind: 'other' };
  const startAfter = asObject(attrs['startAfter']);
  if (!startAfter) return { kind: 'time-invalid', reason: 'no duration is set' };
  const unit = asString(startAfter['type']);
  const perUnit = unit === undefined ? undefined : MINUTES_PER_UNIT[unit.toLowerCase()];
  if (perUnit === undefined)
    return { kind: 'time-invalid', reason: unit ? `the unit "${unit}" is unknown` : 'no unit is set' };
  const raw = startAfter['value'];
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0) return { kind: 'time-invalid', reason: 'the duration is missing or 0' };
  return { kind: 'time', minutes: value * perUnit };
}

function hasKeys(value: unknown): boolean {
  const obj = asObject(value);
  return obj !== undefined && Object.keys(obj).length > 0;
}

/** Every string inside a value, depth first (for merge-field scans); bounded against cycles. */
export function collectStrings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 32) return out;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, depth + 1);
  else if (typeof value === 'object' && value !== null)
    for (const v of Object.values(value)) collectStrings(v, out, depth + 1);
  return out;
}
