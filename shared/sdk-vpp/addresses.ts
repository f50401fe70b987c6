// Address values in VPP's wire shapes: vl_api_address_t = {af, un}, prefix = {address, len},
// mac_address = 6 bytes. IPv4 sits in the first 4 bytes of the 16-byte union, the rest zero.
import { isIPv4, isIPv6 } from 'node:net';
import { invalidArgument } from '@nsm/sdk/core/errors';

export const AF_IP4 = 0;
export const AF_IP6 = 1;

export interface VppAddress {
  af: number;
  un: { ip4?: Buffer; ip6?: Buffer };
}
export interface VppPrefix {
  address: VppAddress;
  len: number;
}

export function ip4Bytes(ip: string): Buffer {
  if (!isIPv4(ip)) throw invalidArgument(`"${ip}" is not an IPv4 address`);
  return Buffer.from(ip.split('.').map(Number));
}

export function ip6Bytes(ip: string): Buffer {
  if (!isIPv6(ip)) throw invalidArgument(`"${ip}" is not an IPv6 address`);
  let text = ip.split('%')[0];
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ip4Bytes(v4[1]);
    tail.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
    text = text.slice(0, -v4[1].length).replace(/:$/, '') || ':';
    if (text.endsWith(':') && !text.endsWith('::')) text += ':';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const hs = head ? head.split(':').filter((s) => s !== '').map((h) => parseInt(h, 16)) : [];
  const rs = rest ? rest.split(':').filter((s) => s !== '').map((h) => parseInt(h, 16)) : [];
  const words = [...hs, ...new Array(8 - hs.length - rs.length - tail.length).fill(0), ...rs, ...tail];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** "10.0.0.1" or "fd00::1" as vl_api_address_t. */
export function address(ip: string): VppAddress {
  return isIPv4(ip) ? { af: AF_IP4, un: { ip4: ip4Bytes(ip) } } : { af: AF_IP6, un: { ip6: ip6Bytes(ip) } };
}

/** "10.0.0.1/24" as vl_api_prefix_t / address_with_prefix (host bits kept as given). */
export function prefix(cidr: string): VppPrefix {
  const [ip, len] = cidr.split('/');
  const a = address(ip);
  const max = a.af === AF_IP4 ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max) throw invalidArgument(`"${cidr}" has an invalid prefix length`);
  return { address: a, len: n };
}

/** Text of a decoded vl_api_address_t. */
export function addressText(a: { af: number; un: { ip4: Buffer; ip6: Buffer } }): string {
  if (a.af === AF_IP4) return [...a.un.ip4].join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(a.un.ip6.readUInt16BE(i).toString(16));
  // Compress the longest run of zero words, as RFC 5952 prints.
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > best[1] && j - i > 1) best = [i, j - i];
    i = j;
  }
  if (best[0] < 0) return words.join(':');
  return `${words.slice(0, best[0]).join(':')}::${words.slice(best[0] + best[1]).join(':')}`;
}

export function prefixText(p: { address: { af: number; un: { ip4: Buffer; ip6: Buffer } }; len: number }): string {
  return `${addressText(p.address)}/${p.len}`;
}

export function mac(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw invalidArgument(`"${text}" is not a MAC address`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export const macText = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
