// Just enough address parsing to validate input and to mask host bits off route prefixes
// (the kernel rejects `ip route add 172.16.1.101/31`, but NSM contexts carry prefixes like that).
import { isIP } from 'node:net';
import { invalidArgument } from '@nsm/sdk/core/errors';

export interface Cidr {
  family: 4 | 6;
  ip: string;
  len: number;
}

/** "10.0.0.1/24" or a bare address (then /32 or /128). */
export function parseCidr(s: string): Cidr {
  const [addr, lenStr, extra] = s.trim().split('/');
  const family = isIP(addr ?? '');
  const max = family === 6 ? 128 : 32;
  const len = lenStr === undefined ? max : Number(lenStr);
  if (!family || extra !== undefined || !Number.isInteger(len) || len < 0 || len > max || lenStr === '') {
    throw invalidArgument(`invalid address or prefix "${s}"`);
  }
  return { family: family as 4 | 6, ip: addr, len };
}

export function parseIp(s: string): { family: 4 | 6; ip: string } {
  const family = isIP(s.trim());
  if (!family) throw invalidArgument(`invalid IP address "${s}"`);
  return { family: family as 4 | 6, ip: s.trim() };
}

export function formatCidr(c: Cidr): string {
  return `${c.ip}/${c.len}`;
}

/** The network of `c`: host bits cleared. */
export function networkOf(c: Cidr): Cidr {
  const bits = c.family === 4 ? 32 : 128;
  const value = toBigInt(c);
  const mask = c.len === 0 ? 0n : ((1n << BigInt(c.len)) - 1n) << BigInt(bits - c.len);
  return { family: c.family, ip: fromBigInt(value & mask, c.family), len: c.len };
}

function toBigInt(c: { family: 4 | 6; ip: string }): bigint {
  if (c.family === 4) return c.ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  let [head, tail] = c.ip.includes('::') ? c.ip.split('::') : [c.ip, undefined];
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4tail = (s: string) =>
    s.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, cc, d) => `${((+a << 8) | +b).toString(16)}:${((+cc << 8) | +d).toString(16)}`);
  head = v4tail(head);
  if (tail !== undefined) tail = v4tail(tail);
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function fromBigInt(v: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Full form is valid for ip(8); no need to compress "::".
  return groups.join(':');
}
