import { EXAMPLE_DOMAINS } from './constants.js';

/** How usable a webhook URL is (rules 20 and 21). */
export type UrlVerdict =
  | { kind: 'ok' }
  | { kind: 'dynamic' }
  | { kind: 'insecure' }
  | { kind: 'invalid'; reason: string };

/**
 * Classifies a webhook URL. No DNS or TLD lookup (§4.1 item 4): reserved TLDs such as `.test`
 * pass. A URL that is entirely a merge field (`{{custom_values.hook}}`) is resolved at run time
 * and cannot be judged; merge fields inside a URL are read as a plain path segment.
 */
export function classifyWebhookUrl(raw: string | undefined): UrlVerdict {
  const trimmed = (raw ?? '').trim();
  if (trimmed === '') return { kind: 'invalid', reason: 'the URL is empty' };
  if (/^\{\{[^{}]*\}\}$/.test(trimmed)) return { kind: 'dynamic' };
  let url: URL;
  try {
    url = new URL(trimmed.replace(/\{\{[^{}]*\}\}/g, 'x'));
  } catch {
    return { kind: 'invalid', reason: `"${trimmed}" is not a valid URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { kind: 'invalid', reason: `the scheme "${url.protocol.slice(0, -1)}" is not http(s)` };
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  const reason = unusableHost(host);
  if (reason) return { kind: 'invalid', reason };
  return url.protocol === 'http:' ? { kind: 'insecure' } : { kind: 'ok' };
}

function unusableHost(host: string): string | undefined {
  if (host === '') return 'the URL has no host';
  if (host === 'localhost' || host.endsWith('.localhost'))
    return `the host "${host}" is this machine, not a public server`;
  const v4 = parseIPv4(host);
  if (v4) return privateIPv4(v4) ? `${host} is a private or loopback address` : undefined;
  if (host.includes(':')) return privateIPv6(host) ? `${host} is a private or loopback address` : undefined;
  if (EXAMPLE_DOMAINS.some((d) => host === d || host.endsWith(`.${d}`))) return `${host} is a documentation domain`;
  if (host.startsWith('your')) return `"${host}" looks like a placeholder host`;
  if (!host.includes('.')) return `"${host}" is not a public host name`;
  return undefined;
}

function parseIPv4(host: string): number[] | undefined {
  // WHATWG URL already normalized forms like 127.1 and 0x7f.1 to dotted decimal.
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const nums = parts.map(Number);
  return nums.every((n) => n <= 255) ? nums : undefined;
}

function privateIPv4([a, b]: number[]): boolean {
  return (
    a === 127 || // loopback
    a === 10 ||
    a === 0 || // "this network"
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) // link-local
  );
}

function privateIPv6(host: string): boolean {
  // URL serializes IPv6 compressed and lower-case: ::1, ::, fc00::/7, fe80::/10, and v4-mapped.
  if (host === '::1' || host === '::') return true;
  if (/^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]?:/.test(host)) return true;
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return privateIPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  return false;
}
