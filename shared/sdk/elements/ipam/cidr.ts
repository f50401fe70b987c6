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
