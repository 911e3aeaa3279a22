import { isIPv4, isIPv6 } from 'node:net';

/**
 * The rate-limit key of a client address: IPv4 as is, IPv6 reduced to its /`prefixLength` network
 * (one subscriber usually holds a whole /56 and could rotate through it), IPv4-mapped IPv6 as IPv4.
 */
export function ipKey(address: string, prefixLength = 56): string {
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const groups = expand(address);
  if (!groups) return address;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  let bits = prefixLength;
  const masked = groups.map((g) => {
    const keep = Math.max(0, Math.min(16, bits));
    bits -= 16;
    return keep === 0 ? 0 : g & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${masked.map((g) => g.toString(16)).join(':')}/${prefixLength}`;
}

function expand(address: string): number[] | undefined {
  let addr = address;
  const zone = addr.indexOf('%');
  if (zone >= 0) addr = addr.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    addr = `${addr.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const fill = 8 - h.length - t.length;
  if (tail === undefined ? h.length !== 8 : fill < 0) return undefined;
  const groups = [...h, ...Array<number>(tail === undefined ? 0 : fill).fill(0), ...t];
  return groups.some((g) => Number.isNaN(g)) ? undefined : groups;
}
