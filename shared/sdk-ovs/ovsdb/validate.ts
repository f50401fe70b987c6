// Checks on what callers put into OVSDB rows. The protocol itself is structured (no quoting
// problems), but names must still be usable as kernel interfaces, and maps must stay small: a
// caller's connection id ends up in external_ids of a row that every OVS client downloads.
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { assertIfName } from '@nsm/sdk-kernel/names';

export const MAP_KEY_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
export const MAP_VALUE_MAX = 1024;
export const MAP_ENTRIES_MAX = 64;
const TYPE_RE = /^[a-z0-9_]{0,32}$/;

/** A bridge or port name: a kernel interface name (netdev bridges and ports are devices). */
export function checkName(what: 'bridge' | 'port', name: unknown): string {
  if (typeof name !== 'string') throw new StatusError(Code.INVALID_ARGUMENT, `${what} name must be a string`);
  try {
    return assertIfName(name);
  } catch (e) {
    throw new StatusError(Code.INVALID_ARGUMENT, `invalid ${what} name: ${(e as Error).message}`);
  }
}

/** A string map column (external_ids, options, other_config): bounded keys, values and size. */
export function checkMap(column: string, owner: string, m: unknown): Record<string, string> {
  if (m === undefined) return {};
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new StatusError(Code.INVALID_ARGUMENT, `${column} of ${owner} must be a string map`);
  const entries = Object.entries(m as Record<string, unknown>);
  if (entries.length > MAP_ENTRIES_MAX) throw new StatusError(Code.INVALID_ARGUMENT, `${column} of ${owner} has ${entries.length} entries (at most ${MAP_ENTRIES_MAX})`);
  for (const [k, v] of entries) {
    if (!MAP_KEY_RE.test(k)) throw new StatusError(Code.INVALID_ARGUMENT, `invalid ${column} key "${k.slice(0, 40)}" of ${owner} (1-128 of A-Z a-z 0-9 _ . : -)`);
    if (typeof v !== 'string') throw new StatusError(Code.INVALID_ARGUMENT, `${column}:${k} of ${owner} must be a string`);
    if (v.length > MAP_VALUE_MAX) throw new StatusError(Code.INVALID_ARGUMENT, `${column}:${k} of ${owner} is ${v.length} characters long (at most ${MAP_VALUE_MAX})`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(v)) throw new StatusError(Code.INVALID_ARGUMENT, `${column}:${k} of ${owner} contains control characters`);
  }
  return m as Record<string, string>;
}

/** Interface.type: "" (a kernel device), "internal", "system", "vxlan", ... */
export function checkType(owner: string, t: unknown): string {
  if (typeof t !== 'string' || !TYPE_RE.test(t)) throw new StatusError(Code.INVALID_ARGUMENT, `invalid interface type "${String(t).slice(0, 40)}" of ${owner}`);
  return t;
}
