// Label and field selectors as the API server parses them (list and watch query parameters):
// labels with =, ==, !=, in, notin, exists and !exists; fields with =, == and != on the pod fields the
// real server supports for pods. A selector the server would refuse is a 400 BadRequest.
import { KubeError, status } from '@nsm/sdk-k8s/api-status';
import type { Pod } from './types';

export interface Requirement {
  key: string;
  op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!';
  values: string[];
}
export type Selector = Requirement[];

const bad = (msg: string) => new KubeError(status(400, 'BadRequest', msg));
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Splits at commas outside parentheses. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter(Boolean);
}

export function parseLabelSelector(text: string): Selector {
  if (text.length > 4096) throw bad('labelSelector is too long');
  return terms(text).map((t) => {
    let m: RegExpExecArray | null;
    let r: Requirement;
    if ((m = /^!\s*(\S+)$/.exec(t))) r = { key: m[1], op: '!', values: [] };
    else if ((m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(t))) r = { key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [m[3]] };
    else if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t))) r = { key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()) };
    else if ((m = /^(\S+)$/.exec(t))) r = { key: m[1], op: 'exists', values: [] };
    else throw bad(`unable to parse requirement: ${JSON.stringify(t)}`);
    if (!KEY.test(r.key)) throw bad(`unable to parse requirement: invalid label key "${r.key}"`);
    for (const v of r.values) if (!VALUE.test(v) || v.length > 63) throw bad(`unable to parse requirement: invalid label value: "${v}"`);
    return r;
  });
}

export function matchLabels(sel: Selector, labels: Record<string, string>): boolean {
  return sel.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case '=':
        return has && labels[r.key] === r.values[0];
      case '!=':
        return !has || labels[r.key] !== r.values[0];
      case 'in':
        return has && r.values.includes(labels[r.key]);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]);
      case 'exists':
        return has;
      case '!':
        return !has;
    }
  });
}

/** The pod fields the API server accepts in a fieldSelector. */
const FIELDS: Record<string, (p: Pod) => string> = {
  'metadata.name': (p) => p.metadata.name,
  'metadata.namespace': (p) => p.metadata.namespace,
  'spec.nodeName': (p) => p.spec.nodeName ?? '',
  'spec.restartPolicy': (p) => p.spec.restartPolicy ?? '',
  'status.phase': (p) => p.status.phase,
};

export function parseFieldSelector(text: string): Selector {
  if (text.length > 4096) throw bad('fieldSelector is too long');
  return terms(text).map((t) => {
    const m = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(t);
    if (!m) throw bad(`invalid selector: '${t}'; can't understand '${t}'`);
    if (!FIELDS[m[1]]) throw bad(`field label not supported: ${m[1]}`);
    return { key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [m[3]] };
  });
}

export function matchFields(sel: Selector, pod: Pod): boolean {
  return sel.every((r) => (FIELDS[r.key](pod) === r.values[0]) === (r.op === '='));
}
