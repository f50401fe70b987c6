// VXLAN network identifiers (api.md §4.4 VNI rule): the answering forwarder draws a random 24-bit VNI,
// even when the source tunnel IP is <= the destination (16-byte forms compared byte-wise), odd
// otherwise, so the two directions between a pair of nodes never collide; unique per (src IP, VNI).
// Kernel vxlan devices add one more constraint: one netns cannot hold two devices with the same VNI
// on the same UDP port, whatever their remotes, so VNIs with a device here are avoided as well.
import { randomInt } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { resourceExhausted } from '@nsm/sdk/core/errors';

/** 16-byte form of an IP (IPv4 as ::ffff:a.b.c.d); undefined when it is not an IP. */
export function ip16(ip: string | undefined): Buffer | undefined {
  if (!ip) return undefined;
  if (isIPv4(ip)) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip.split('.').map(Number)]);
  if (!isIPv6(ip)) return undefined;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':') : []);
  let h = parse(head);
  let t = parse(tail);
  const v4 = (arr: string[]) => {
    const last = arr[arr.length - 1];
    if (last && last.includes('.')) {
      const b = last.split('.').map(Number);
      arr.splice(arr.length - 1, 1, ((b[0] << 8) | b[1]).toString(16), ((b[2] << 8) | b[3]).toString(16));
    }
    return arr;
  };
  if (tail === undefined) h = v4(h);
  else t = v4(t);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

/** Whether the VNI for a connection from `src` to `dst` must be odd. */
export function oddVni(src: string | undefined, dst: string | undefined): boolean {
  const s = ip16(src);
  const d = ip16(dst);
  if (!s) return false;
  if (!d) return true;
  return Buffer.compare(s, d) > 0;
}

export class VniAllocator {
  private readonly pairs = new Set<string>();
  private readonly local = new Map<number, number>();

  constructor(private readonly random: () => number = () => randomInt(0, 0x800000)) {}

  /** A fresh VNI for a connection from `src` (orig or tunnel IP) to `dst`, reserved. */
  allocate(src: string, dst: string): number {
    const odd = oddVni(src, dst);
    for (let i = 0; i < 1000; i++) {
      const vni = ((2 * this.random()) & 0xffffff) | (odd ? 1 : 0);
      if (vni === 0 || this.pairs.has(`${src}/${vni}`) || this.local.has(vni)) continue;
      this.pairs.add(`${src}/${vni}`);
      return vni;
    }
    throw resourceExhausted(`no free VNI for connections from ${src}`);
  }

  /** Reserves a VNI the request already carries (refresh); false when another connection holds it. */
  reserve(src: string, vni: number): boolean {
    const k = `${src}/${vni}`;
    if (this.pairs.has(k)) return false;
    this.pairs.add(k);
    return true;
  }

  release(src: string, vni: number): void {
    this.pairs.delete(`${src}/${vni}`);
  }

  /** Counts a device with this VNI in this namespace (either side of a connection). */
  useLocal(vni: number): void {
    this.local.set(vni, (this.local.get(vni) ?? 0) + 1);
  }

  /** Whether a device with this VNI already exists here. */
  inUseLocally(vni: number): boolean {
    return this.local.has(vni);
  }

  releaseLocal(vni: number): void {
    const n = (this.local.get(vni) ?? 0) - 1;
    if (n > 0) this.local.set(vni, n);
    else this.local.delete(vni);
  }
}
