// The address map of an interdomain proxy (upstream's format: a YAML map file of internal IP →
// external IP, e.g. `10.233.0.11: 192.0.2.11`): what a NAT in front of a cluster does to its nodes'
// addresses. Both sides must be IP literals of one family; a bad entry names its key. Bounded: a map
// is a handful of node addresses, not a routing table.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { parse } from 'yaml';
import { invalidArgument } from '../core/errors';
import { ipFamily, isIpLiteral } from './formats';
import { malformed } from './text';

export const MAX_IP_MAP_ENTRIES = 4096;
const MAX_IP_MAP_BYTES = 1 << 20;

export type IpMap = ReadonlyMap<string, string>;

/** Parses and checks the YAML text of an address map (an empty file is an empty map). */
export function parseIpMap(text: string, field = 'address map'): Map<string, string> {
  if (text.length > MAX_IP_MAP_BYTES) throw invalidArgument(`${field} is larger than ${MAX_IP_MAP_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 0 });
  } catch (err) {
    throw invalidArgument(`${field} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const out = new Map<string, string>();
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw invalidArgument(`${field} must be a map of internal IP to external IP`);
  const entries = Object.entries(doc as Record<string, unknown>);
  if (entries.length > MAX_IP_MAP_ENTRIES) throw invalidArgument(`${field} has ${entries.length} entries; at most ${MAX_IP_MAP_ENTRIES}`);
  for (const [k, v] of entries) {
    if (!isIpLiteral(k)) throw malformed(`${field} key`, k, 'is not an IP address');
    if (typeof v !== 'string' || !isIpLiteral(v)) throw malformed(`${field}[${k}]`, v, 'is not an IP address');
    if (ipFamily(k) !== ipFamily(v)) throw malformed(`${field}[${k}]`, v, 'is not of the same IP family as its key');
    out.set(k, v);
  }
  return out;
}

/** The reverse map (external → internal); two internals with one external are refused. */
export function reverseIpMap(map: IpMap, field = 'address map'): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of map) {
    if (out.has(v)) throw invalidArgument(`${field}: ${v} is the external address of both ${out.get(v)} and ${k}`);
    out.set(v, k);
  }
  return out;
}
/** Both directions of an address map, as the swapip elements use it. */
export interface IpSwap {
  toExternal(ip: string): string | undefined;
  toInternal(ip: string): string | undefined;
}

export function ipSwap(map: IpMap): IpSwap {
  const reverse = reverseIpMap(map);
  return { toExternal: (ip) => map.get(ip), toInternal: (ip) => reverse.get(ip) };
}

/**
 * An address map file, re-read when it changes (a ConfigMap volume is updated in place). A change
 * that does not parse keeps the last good map and is reported through `onError`.
 */
export class IpMapFile implements IpSwap {
  private swap: IpSwap;
  private readonly listener = () => this.reload();

  constructor(
    readonly path: string,
    private readonly onError: (err: Error) => void = () => undefined,
    pollMs = 1000,
  ) {
    this.swap = ipSwap(parseIpMap(readFileSync(path, 'utf8'), path));
    // Polled (stat), as a ConfigMap's atomic symlink swap defeats inotify on the file itself.
    watchFile(path, { interval: pollMs, persistent: false }, this.listener);
  }

  private reload(): void {
    try {
      this.swap = ipSwap(parseIpMap(readFileSync(this.path, 'utf8'), this.path));
    } catch (err) {
      this.onError(err as Error);
    }
  }

  toExternal(ip: string): string | undefined {
    return this.swap.toExternal(ip);
  }

  toInternal(ip: string): string | undefined {
    return this.swap.toInternal(ip);
  }

  close(): void {
    unwatchFile(this.path, this.listener);
  }
}
