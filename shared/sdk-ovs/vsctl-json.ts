// Decoding `ovs-vsctl --format=json` tables. OVSDB encodes values as JSON atoms, or as
// ["set", [...]], ["map", [[k, v], ...]] and ["uuid", "..."]; an empty optional column is ["set", []].

export type OvsdbValue = string | number | boolean | OvsdbValue[] | { [key: string]: OvsdbValue } | undefined;

export interface VsctlTable {
  headings: string[];
  data: unknown[][];
}

/** Plain JS for one OVSDB datum: maps become objects, empty sets undefined, one-element sets the element. */
export function decodeDatum(d: unknown): OvsdbValue {
  if (!Array.isArray(d)) return d as OvsdbValue;
  const [tag, v] = d as [string, unknown];
  if (tag === 'map') return Object.fromEntries((v as [unknown, unknown][]).map(([k, val]) => [String(decodeDatum(k)), decodeDatum(val)]));
  if (tag === 'set') {
    const items = (v as unknown[]).map(decodeDatum);
    return items.length === 0 ? undefined : items.length === 1 ? items[0] : items;
  }
  if (tag === 'uuid' || tag === 'named-uuid') return String(v);
  return d as OvsdbValue;
}

/** Rows of one table as objects keyed by heading. */
export function decodeTable(json: string): Record<string, OvsdbValue>[] {
  const t = JSON.parse(json) as VsctlTable;
  return t.data.map((row) => Object.fromEntries(t.headings.map((h, i) => [h, decodeDatum(row[i])])));
}

export function asStringMap(v: OvsdbValue): Record<string, string> {
  if (v === undefined || typeof v !== 'object' || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, String(val)]));
}

/** Quotes a string as an OVSDB atom for ovs-vsctl arguments (its parser accepts JSON string syntax). */
export function quoteAtom(s: string): string {
  return JSON.stringify(s);
}
