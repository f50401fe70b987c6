// `nsm-local apply -f` with Kubernetes manifests: multi-document YAML in which a document with
// apiVersion and kind is a Kubernetes object and one without is the runtime's topology. Pods are taken
// as they are; a Deployment becomes `replicas` pods named and labelled as its ReplicaSet would name
// them (<deployment>-<pod-template-hash>-<5 random>, label pod-template-hash). Other kinds are
// refused: nothing here would act on them.
import { parseAllDocuments } from 'yaml';
import { generatedSuffix } from '@nsm/sdk-k8s/api-status';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: Json;
  [k: string]: unknown;
}

/** Splits the documents: topology documents (no kind) and Kubernetes objects, in order. */
export function splitManifests(text: string): { topology: Json[]; objects: KubeObject[] } {
  const topology: Json[] = [];
  const objects: KubeObject[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length) throw new Error(`document ${i + 1}: ${doc.errors[0].message}`);
    const v = doc.toJS() as unknown;
    if (v === null || v === undefined) return;
    if (!isObj(v)) throw new Error(`document ${i + 1} is not a map`);
    if (v.kind === undefined && v.apiVersion === undefined) return void topology.push(v);
    if (typeof v.kind !== 'string' || typeof v.apiVersion !== 'string') throw new Error(`document ${i + 1}: a Kubernetes object needs both apiVersion and kind`);
    if (v.kind === 'List' && Array.isArray(v.items)) return void objects.push(...(v.items as KubeObject[]));
    objects.push(v as KubeObject);
  });
  return { topology, objects };
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** The pod-template-hash label value: FNV-1a (32 bit) of the template, in Kubernetes' safe alphabet. */
export function templateHash(template: unknown): string {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(JSON.stringify(template))) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return [...String(h)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

const invalid = (kind: string, name: string, why: string) => new Error(`${kind} "${name}" is invalid: ${why}`);

/** The pods an object stands for, each a v1 Pod body to create in `namespace`. */
export function podsOf(obj: KubeObject): { namespace: string; pod: Json }[] {
  const meta = isObj(obj.metadata) ? obj.metadata : {};
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (obj.apiVersion === 'v1' && obj.kind === 'Pod') return [{ namespace, pod: obj }];
  if (obj.apiVersion === 'apps/v1' && obj.kind === 'Deployment') {
    if (!name) throw invalid('Deployment', name, 'metadata.name: Required value');
    const spec = isObj(obj.spec) ? obj.spec : {};
    const replicas = spec.replicas ?? 1;
    if (!Number.isInteger(replicas) || (replicas as number) < 0 || (replicas as number) > 64) throw invalid('Deployment', name, `spec.replicas: Invalid value: ${JSON.stringify(replicas)}: an integer 0..64 here`);
    const template = isObj(spec.template) ? spec.template : undefined;
    if (!template) throw invalid('Deployment', name, 'spec.template: Required value');
    const tmeta = isObj(template.metadata) ? template.metadata : {};
    const labels = (isObj(tmeta.labels) ? tmeta.labels : {}) as Record<string, string>;
    const selector = isObj(spec.selector) && isObj(spec.selector.matchLabels) ? (spec.selector.matchLabels as Record<string, string>) : undefined;
    if (!selector || Object.keys(selector).length === 0) throw invalid('Deployment', name, 'spec.selector: Required value (matchLabels)');
    if (Object.entries(selector).some(([k, v]) => labels[k] !== v)) throw invalid('Deployment', name, 'spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`');
    const hash = templateHash(template);
    return Array.from({ length: replicas as number }, () => ({
      namespace,
      pod: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...tmeta, name: `${name}-${hash}-${generatedSuffix()}`, namespace, labels: { ...labels, 'pod-template-hash': hash } },
        spec: structuredClone(template.spec ?? {}),
      },
    }));
  }
  throw new Error(`${obj.kind} (${obj.apiVersion}) ${name}: nsm-local applies Pods (v1) and Deployments (apps/v1) only`);
}
