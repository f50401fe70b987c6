// Address arithmetic over ip-address: a prefix as a BigInt range, and containment checks.
import { Address4, Address6 } from 'ip-address';

export interface Prefix {
  v6: boolean;
  start: bigint;
  end: bigint;
  bits: number;
  text: string;
}

export function parsePrefix(text: string): Prefix {
  const v6 = text.includes(':');
  let a: Address4 | Address6;
  try {
    a = v6 ? new Address6(text) : new Address4(text);
  } catch {
    throw new Error(`"${text}" is not a valid CIDR prefix`);
  }
  if (!text.includes('/')) throw new Error(`"${text}" is not a CIDR prefix (no /length)`);
  return { v6, start: a.startAddress().bigInt(), end: a.endAddress().bigInt(), bits: v6 ? 128 : 32, text };
}

export function addressText(v6: boolean, n: bigint): string {
  return v6 ? Address6.fromBigInt(n).correctForm() : Address4.fromBigInt(n).address;
}

export const hostPrefix = (v6: boolean, n: bigint) => `${addressText(v6, n)}/${v6 ? 128 : 32}`;

export function contains(p: Prefix, v6: boolean, n: bigint): boolean {
  return p.v6 === v6 && n >= p.start && n <= p.end;
}

/** Parses "a.b.c.d/len" or a bare address into its number; undefined when invalid. */
export function addressOf(cidr: string): { v6: boolean; n: bigint } | undefined {
  const v6 = cidr.includes(':');
  try {
    const a = v6 ? new Address6(cidr.split('/')[0]) : new Address4(cidr.split('/')[0]);
    return { v6, n: a.bigInt() };
  } catch {
    return undefined;
  }
}

/** The smallest set of CIDRs covering [start, end] (greedy: the largest aligned block at each step). */
function rangeToCidrs(v6: boolean, start: bigint, end: bigint): string[] {
  const bits = v6 ? 128 : 32;
  const out: string[] = [];
  for (let n = start; n <= end; ) {
    let size = 0;
    // Grow the block while it stays aligned at n and inside the range.
    while (size < bits && (n & ((1n << BigInt(size + 1)) - 1n)) === 0n && n + (1n << BigInt(size + 1)) - 1n <= end) size++;
    out.push(`${addressText(v6, n)}/${bits - size}`);
    n += 1n << BigInt(size);
  }
  return out;
}

/**
 * Prefixes normalised as upstream's excludedprefixes keeps them: overlapping and adjacent ones merged,
 * given back as the minimal list of CIDRs, IPv4 first. Throws on a prefix that does not parse.
 */
export function normalizePrefixes(texts: string[]): string[] {
  const out: string[] = [];
  for (const v6 of [false, true]) {
    const ranges = texts
      .map(parsePrefix)
      .filter((p) => p.v6 === v6)
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let cur: { start: bigint; end: bigint } | undefined;
    for (const r of ranges) {
      if (cur && r.start <= cur.end + 1n) {
        if (r.end > cur.end) cur.end = r.end;
        continue;
      }
      if (cur) out.push(...rangeToCidrs(v6, cur.start, cur.end));
      cur = { start: r.start, end: r.end };
    }
    if (cur) out.push(...rangeToCidrs(v6, cur.start, cur.end));
  }
  return out;
}

/** The end of the first of `excluded` that holds n (same family), or undefined: where to skip to. */
export function excludedUntil(excluded: Prefix[], v6: boolean, n: bigint): bigint | undefined {
  let until: bigint | undefined;
  for (const x of excluded) if (contains(x, v6, n) && (until === undefined || x.end > until)) until = x.end;
  return until;
}
