// The pod template (NSM_POD_DESCRIPTION_FILE): read once at start (unreadable or not a pod is fatal,
// as upstream), then copied for each node. A copy gets `generateName: <template name>-` (the server
// picks the suffix), `spec.nodeName` = the client's node, and the supplier's label, by which the
// supplier finds its own pods again (after a restart too) and deletes only those.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export const SUPPLIER_LABEL = 'networkservicemesh.io/supplied-for';

export interface PodTemplate {
  name: string;
  /** The manifest as read (metadata and spec). */
  manifest: { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  /** Problems that do not stop the supplier but will show later, for the start-up log. */
  warnings: string[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** The supplier's label value for a service: the name itself when it is a valid label value. */
export const supplierLabelValue = (service: string) => (LABEL_VALUE.test(service) ? service : `h-${createHash('sha256').update(service).digest('hex').slice(0, 32)}`);

export function parseTemplate(text: string, file: string): PodTemplate {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`${file}: not YAML or JSON: ${(err as Error).message}`);
  }
  if (!isObj(doc)) throw new Error(`${file}: not a pod manifest (want an object with metadata and spec)`);
  if (doc.kind !== undefined && doc.kind !== 'Pod') throw new Error(`${file}: kind is ${String(doc.kind)}, want Pod`);
  if (doc.apiVersion !== undefined && doc.apiVersion !== 'v1') throw new Error(`${file}: apiVersion is ${String(doc.apiVersion)}, want v1`);
  const metadata = isObj(doc.metadata) ? doc.metadata : {};
  const spec = isObj(doc.spec) ? doc.spec : undefined;
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  if (!name) throw new Error(`${file}: metadata.name is required (created pods are named <name>-<suffix>)`);
  if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) throw new Error(`${file}: spec.containers is required`);
  const warnings: string[] = [];
  if (spec.restartPolicy !== 'Never' && spec.restartPolicy !== 'OnFailure') {
    warnings.push(`restartPolicy is ${String(spec.restartPolicy ?? 'Always (the default)')}: an endpoint that retires is restarted and never completes; use Never`);
  }
  const envs = (spec.containers as Json[]).flatMap((c) => (Array.isArray(c?.env) ? (c.env as Json[]) : []));
  const nsmName = envs.find((e) => e?.name === 'NSM_NAME');
  const byPodName = isObj(nsmName?.valueFrom) && isObj(nsmName.valueFrom.fieldRef) && nsmName.valueFrom.fieldRef.fieldPath === 'metadata.name';
  if (!byPodName) warnings.push('no container sets NSM_NAME from metadata.name: the supplier waits for an endpoint registered under the pod name');
  return { name, manifest: { metadata, spec }, warnings };
}

export function readTemplate(file: string): PodTemplate {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the pod template ${file}: ${(err as Error).message}`);
  }
  return parseTemplate(text, file);
}

/** The pod to create for `node`. */
export function podFor(t: PodTemplate, node: string, service: string): Json {
  const { name: _name, namespace: _ns, resourceVersion: _rv, uid: _uid, generateName: _gn, ...meta } = t.manifest.metadata;
  const labels = isObj(meta.labels) ? meta.labels : {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...structuredClone(meta), generateName: `${t.name}-`, labels: { ...labels, [SUPPLIER_LABEL]: supplierLabelValue(service) } },
    spec: { ...structuredClone(t.manifest.spec), nodeName: node },
  };
}
