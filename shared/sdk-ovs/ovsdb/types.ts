// The RFC 7047 wire shapes we use: values (atoms, sets, maps, uuids), conditions, operations and
// monitor updates, with helpers to build and read them. Everything a caller gives goes into these
// structures as JSON data, never into text that something parses.

export type Atom = string | number | boolean | ['uuid', string] | ['named-uuid', string];
export type Datum = Atom | ['set', Atom[]] | ['map', [Atom, Atom][]];
export type Row = Record<string, Datum>;
export type Condition = [string, '==' | '!=' | '<' | '<=' | '>' | '>=' | 'includes' | 'excludes', Datum];
export type Mutation = [string, '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete', Datum];

export type Operation =
  | { op: 'insert'; table: string; row: Row; 'uuid-name'?: string }
  | { op: 'select'; table: string; where: Condition[]; columns?: string[] }
  | { op: 'update'; table: string; where: Condition[]; row: Row }
  | { op: 'mutate'; table: string; where: Condition[]; mutations: Mutation[] }
  | { op: 'delete'; table: string; where: Condition[] }
  | { op: 'wait'; table: string; where: Condition[]; columns: string[]; until: '==' | '!='; rows: Row[]; timeout?: number }
  | { op: 'comment'; comment: string };

/** `{table: {uuid: {old?, new?}}}` from "monitor" and "update". */
export type TableUpdates = Record<string, Record<string, { old?: Record<string, unknown>; new?: Record<string, unknown> }>>;

export const uuid = (u: string): ['uuid', string] => ['uuid', u];
export const namedUuid = (n: string): ['named-uuid', string] => ['named-uuid', n];
export const set = (items: Atom[]): ['set', Atom[]] => ['set', items];
export const map = (m: Record<string, string>): ['map', [string, string][]] => ['map', Object.entries(m)];
export const EMPTY_SET: ['set', Atom[]] = ['set', []];

/** The elements of a set column (a one-element set may come as the bare atom). */
export function setItems(d: unknown): unknown[] {
  if (Array.isArray(d) && d[0] === 'set') return d[1] as unknown[];
  return d === undefined ? [] : [d];
}

/** A uuid atom's string, or undefined. */
export function uuidOf(a: unknown): string | undefined {
  return Array.isArray(a) && a[0] === 'uuid' && typeof a[1] === 'string' ? a[1] : undefined;
}

/** A string-to-string map column as an object. */
export function readMap(d: unknown): Record<string, string> {
  if (!Array.isArray(d) || d[0] !== 'map') return {};
  return Object.fromEntries((d[1] as [unknown, unknown][]).map(([k, v]) => [String(k), String(v)]));
}

/** An optional integer column (e.g. Interface.ofport): the number, or undefined while empty. */
export function readOptionalInt(d: unknown): number | undefined {
  if (typeof d === 'number') return d;
  const items = setItems(d);
  return typeof items[0] === 'number' ? items[0] : undefined;
}

/** An optional string column (e.g. Interface.error). */
export function readOptionalString(d: unknown): string | undefined {
  if (typeof d === 'string') return d;
  const items = setItems(d);
  return typeof items[0] === 'string' ? items[0] : undefined;
}
