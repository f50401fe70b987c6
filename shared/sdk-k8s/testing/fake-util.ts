// Helpers of the fake API server: the resources it serves, URL parsing, name rules, JSON plumbing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP, VERSION } from '../codec';
import { badRequest, invalid, KubeError, status } from './fake-status';

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Resource {
  plural: string;
  kind: string;
  listKind: string;
}

export const RESOURCES: Resource[] = [
  { plural: 'networkservices', kind: 'NetworkService', listKind: 'NetworkServiceList' },
  { plural: 'networkserviceendpoints', kind: 'NetworkServiceEndpoint', listKind: 'NetworkServiceEndpointList' },
];

export interface Target {
  res: Resource;
  namespace?: string;
  name?: string;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// The alphabet the real server draws generateName suffixes (five characters) from.
export const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
export const clone = <T>(v: T): T => structuredClone(v);
export const key = (plural: string, ns: string, name: string) => `${plural}/${ns}/${name}`;

export function parsePath(path: string): Target {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'apis' || parts[1] !== GROUP || parts[2] !== VERSION) throw notFoundPath();
  let rest = parts.slice(3);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const res = RESOURCES.find((r) => r.plural === rest[0]);
  if (!res || rest.length > 2 || (rest.length === 2 && namespace === undefined)) throw notFoundPath();
  return { res, namespace, name: rest[1] };
}

export const notFoundPath = () => new KubeError(status(404, 'NotFound', 'the server could not find the requested resource'));
export const status500 = (msg: string) => new KubeError(status(500, 'InternalError', msg));

export function validateName(res: Resource, name: unknown): void {
  if (typeof name !== 'string' || name === '') throw invalid(res, '', 'metadata.name: Required value: name or generateName is required');
  if (name.length > 253 || !NAME_RE.test(name)) {
    throw invalid(res, name, `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
  }
}


export function strip(o: Obj): Obj {
  const { __plural: _plural, ...rest } = o;
  return clone(rest);
}

export function pick(o: Obj, keys: string[]): Obj {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/** Key order does not make two objects different. */
export function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Obj)[k])]));
  return v;
}

export async function readBody(req: IncomingMessage): Promise<Obj | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
}

export function reply(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
