/** Keeps a label's distinct values under a cap; values past the cap become one overflow value. */
export class BoundedLabel {
  private readonly values = new Set<string>();
  /** Values refused since creation (also counted by the helpers' own overflow counters). */
  dropped = 0;

  constructor(
    private readonly max: number,
    private readonly overflow = '__overflow__',
  ) {}

  /** The value itself while under the cap (or already known), else the overflow value. */
  bound(value: string): string {
    if (this.values.has(value)) return value;
    if (this.values.size >= this.max) {
      this.dropped++;
      return this.overflow;
    }
    this.values.add(value);
    return value;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEXISH = /^[0-9a-f]{16,}$/i;
const NUMERIC = /^\d+$/;
const EMAIL = /@/;

/** True when a path segment looks like an identifier, an email or a token rather than a fixed word. */
export function isIdLike(segment: string): boolean {
  if (segment.startsWith(':') || segment === '') return false;
  if (NUMERIC.test(segment) || UUID.test(segment) || HEXISH.test(segment) || EMAIL.test(segment)) return true;
  // Mixed letters and digits of id length (Mongo/nanoid/GHL location ids) are ids, not words.
  return segment.length >= 8 && /\d/.test(segment) && /[a-zA-Z]/.test(segment);
}

/**
 * Turns a URL or path into a bounded, PII-free label value: drops scheme, host, query string and
 * fragment, and replaces id-like segments with `:id` (`https://x/contacts/abc123XYZ9?email=a@b` -> `/contacts/:id`).
 */
export function sanitizePath(input: string): string {
  let path = input;
  const scheme = path.indexOf('://');
  if (scheme !== -1) {
    const slash = path.indexOf('/', scheme + 3);
    path = slash === -1 ? '/' : path.slice(slash);
  }
  const cut = path.search(/[?#]/);
  if (cut !== -1) path = path.slice(0, cut);
  if (!path.startsWith('/')) path = `/${path}`;
  const out = path
    .split('/')
    .map((seg) => (isIdLike(seg) ? ':id' : seg.length > 64 ? ':long' : seg))
    .join('/');
  return out.length > 1 && out.endsWith('/') ? out.slice(0, -1) : out;
}
