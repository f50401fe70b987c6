// The primitives every input check is made of: sizes in bytes (what a peer sends and we store), a
// hostile value shown safely in an error message, and the two kinds of refusal the checks give: a
// value that is malformed (INVALID_ARGUMENT) and a field that is too long or has too many entries
// (RESOURCE_EXHAUSTED). Every message starts with the field's path, e.g.
// mechanism_preferences[2].parameters["src_ip"]: "192.0.2.1\nnetns add X #" is not an IP address
import { invalidArgument, resourceExhausted, StatusError } from '../core/errors';

export const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Characters no NSM string needs and that change how text is read: C0 and C1 controls, DEL, line
 * and paragraph separators, bidirectional overrides and isolates, and the byte order mark.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this finds
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
/** Whitespace of any kind, or a control character: what names and keys may not contain. */
// eslint-disable-next-line no-control-regex -- control characters are what this finds
export const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

const SHOWN = 64;

/** A value as an error message shows it: quoted, escaped, cut to 64 characters. */
export function show(v: unknown): string {
  if (typeof v !== 'string') return `(${v === null ? 'null' : typeof v})`;
  const cut = v.length > SHOWN ? `${v.slice(0, SHOWN)}…` : v;
  return JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `parent["key"]`, with the key shown safely. */
export const keyPath = (parent: string, key: string): string => `${parent}[${show(key)}]`;

/** INVALID_ARGUMENT: `field: "value" reason`. */
export function malformed(field: string, value: unknown, reason: string): StatusError {
  return invalidArgument(`${field}: ${show(value)} ${reason}`);
}

/** RESOURCE_EXHAUSTED for a list or map with more than `max` entries. */
export function tooMany(field: string, n: number, max: number): StatusError {
  return resourceExhausted(`${field}: ${n} entries, at most ${max} allowed`);
}

/** RESOURCE_EXHAUSTED for a string longer than `max` bytes. */
export function tooLong(field: string, n: number, max: number): StatusError {
  return resourceExhausted(`${field}: ${n} bytes long, at most ${max} allowed`);
}

export function isString(v: unknown): v is string {
  return typeof v === 'string';
}

export function requireString(field: string, v: unknown): string {
  if (!isString(v)) throw invalidArgument(`${field}: ${show(v)} is not a string`);
  return v;
}

export function checkCount(field: string, n: number, max: number): void {
  if (n > max) throw tooMany(field, n, max);
}

export function checkBytes(field: string, v: string, max: number): void {
  const n = byteLength(v);
  if (n > max) throw tooLong(field, n, max);
}

/** An array, or nothing (treated as empty); anything else is malformed. */
export function list<T>(field: string, v: T[] | undefined | null, max: number): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidArgument(`${field}: ${show(v)} is not a list`);
  checkCount(field, v.length, max);
  return v;
}

/** The entries of a string map (a proto map<string,string>), or none; counted against `max`. */
export function entries(field: string, v: Record<string, string> | undefined | null, max: number): [string, string][] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(`${field}: ${show(v)} is not a map`);
  const all = Object.entries(v);
  checkCount(field, all.length, max);
  return all;
}

/**
 * Free text: a string of at most `max` bytes without control characters (or, with `noSpace`,
 * without any whitespace either). Empty is fine unless `required`.
 */
export function checkText(field: string, v: unknown, max: number, opts: { required?: boolean; noSpace?: boolean } = {}): string {
  const s = requireString(field, v);
  if (!s) {
    if (opts.required) throw invalidArgument(`${field} must not be empty`);
    return s;
  }
  checkBytes(field, s, max);
  if ((opts.noSpace ? SPACE_OR_CONTROL : CONTROL).test(s)) {
    throw malformed(field, s, opts.noSpace ? 'contains whitespace or control characters' : 'contains control characters');
  }
  return s;
}

/** A value of a fixed format: the size bound is part of the format, so a long value is malformed. */
export function checkFormat(field: string, v: unknown, ok: (s: string) => boolean, what: string): string {
  const s = requireString(field, v);
  if (!ok(s)) throw malformed(field, s, `is not ${what}`);
  return s;
}
