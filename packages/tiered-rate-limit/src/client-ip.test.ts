import { describe, expect, it } from 'vitest';
import { ipKey } from './client-ip.js';

describe('ipKey', () => {
  it('keeps IPv4 and unwraps IPv4-mapped IPv6', () => {
    expect(ipKey('203.0.113.9')).toBe('203.0.113.9');
    expect(ipKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });

  it('groups IPv6 addresses of one /56 into one key and separates neighbouring /56s', () => {
    const a = ipKey('2001:db8:abcd:1200::1');
    expect(a).toBe('2001:db8:abcd:1200:0:0:0:0/56');
    expect(ipKey('2001:db8:abcd:12ff:ffff:ffff:ffff:ffff')).toBe(a);
    expect(ipKey('2001:0db8:abcd:12aa:1:2:3:4')).toBe(a);
    expect(ipKey('2001:db8:abcd:1300::1')).not.toBe(a);
    expect(ipKey('::1')).toBe('0:0:0:0:0:0:0:0/56');
    expect(ipKey('fe80::1%eth0', 64)).toBe('fe80:0:0:0:0:0:0:0/64');
  });

  it('passes through what is not an IP address', () => {
    expect(ipKey('unknown')).toBe('unknown');
  });
});
