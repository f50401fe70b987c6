// Offline validation of rendered Kubernetes objects, for the deployment tests.
//
// What it checks, honestly stated: field names and JSON types of every object of a known kind,
// recursively, against the model type maps that @kubernetes/client-node generates from the
// Kubernetes OpenAPI (release-1.36); the fields the OpenAPI marks required for the types used
// here (hand-listed below, the type maps do not carry "required"); enum values of a few fields;
// plus cross-field checks (selector vs template labels, volume mounts vs volumes, unique names).
// It does not check formats such as quantities or label-value syntax, nor admission-time
// defaults and policies: that needs an API server (kubectl apply --dry-run=server).
import { parse } from 'yaml';

type Obj = Record<string, any>;
interface Attr {
  baseName: string;
  type: string;
}

/** apiVersion/kind -> client-node model. */
export const MODELS: Record<string, string> = {
  'v1/Namespace': 'V1Namespace',
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/Service': 'V1Service',
  'v1/ConfigMap': 'V1ConfigMap',
  'v1/Pod': 'V1Pod',
  'apps/v1/Deployment': 'V1Deployment',
  'apps/v1/DaemonSet': 'V1DaemonSet',
  'apps/v1/StatefulSet': 'V1StatefulSet',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'V1ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'V1ClusterRoleBinding',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
  'apiextensions.k8s.io/v1/CustomResourceDefinition': 'V1CustomResourceDefinition',
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': 'V1MutatingWebhookConfiguration',
};

/** Required fields per model, as in the Kubernetes OpenAPI. */
const REQUIRED: Record<string, string[]> = {
  V1Container: ['name'],
  V1EnvVar: ['name'],
  V1Volume: ['name'],
  V1VolumeMount: ['name', 'mountPath'],
  V1ContainerPort: ['containerPort'],
  V1ServicePort: ['port'],
  V1PodSpec: ['containers'],
  V1DeploymentSpec: ['selector', 'template'],
  V1DaemonSetSpec: ['selector', 'template'],
  V1StatefulSetSpec: ['selector', 'template'],
  V1PolicyRule: ['verbs'],
  V1RoleRef: ['apiGroup', 'kind', 'name'],
  RbacV1Subject: ['kind', 'name'],
  V1CustomResourceDefinitionSpec: ['group', 'names', 'scope', 'versions'],
  V1CustomResourceDefinitionNames: ['plural', 'kind'],
  V1CustomResourceDefinitionVersion: ['name', 'served', 'storage'],
  V1HostPathVolumeSource: ['path'],
  V1ObjectFieldSelector: ['fieldPath'],
  V1TCPSocketAction: ['port'],
  V1HTTPGetAction: ['port'],
  V1Sysctl: ['name', 'value'],
  V1PodAffinityTerm: ['topologyKey'],
  V1ClusterRoleBinding: ['roleRef'],
  V1MutatingWebhook: ['name', 'clientConfig', 'sideEffects', 'admissionReviewVersions'],
};

const ENUMS: Record<string, Record<string, string[]>> = {
  V1Container: { imagePullPolicy: ['Always', 'IfNotPresent', 'Never'] },
  V1HostPathVolumeSource: { type: ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] },
  V1PodSpec: { dnsPolicy: ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'], restartPolicy: ['Always', 'OnFailure', 'Never'] },
  V1ServiceSpec: { type: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
  V1ServicePort: { protocol: ['TCP', 'UDP', 'SCTP'] },
  V1ContainerPort: { protocol: ['TCP', 'UDP', 'SCTP'] },
  V1HTTPGetAction: { scheme: ['HTTP', 'HTTPS'] },
  V1CustomResourceDefinitionSpec: { scope: ['Namespaced', 'Cluster'] },
};

const attrCache = new Map<string, Attr[]>();
function attributes(model: string): Attr[] {
  let a = attrCache.get(model);
  if (!a) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(`@kubernetes/client-node/dist/gen/models/${model}.js`);
    a = (mod[model] as { attributeTypeMap: Attr[] }).attributeTypeMap;
    attrCache.set(model, a);
  }
  return a;
}

export function validateType(value: unknown, type: string, path: string, errors: string[]): void {
  const fail = (why: string): void => void errors.push(`${path}: ${why}`);
  if (value === null || value === undefined) return;
  switch (type) {
    case 'any':
      return;
    case 'string':
    case 'Date':
      if (typeof value !== 'string') fail(`want string, got ${JSON.stringify(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number') fail(`want number, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`want boolean, got ${JSON.stringify(value)}`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && !Number.isInteger(value)) fail(`want int or string, got ${JSON.stringify(value)}`);
      return;
  }
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (!Array.isArray(value)) return fail(`want array of ${arr[1]}`);
    value.forEach((v, i) => validateType(v, arr[1], `${path}[${i}]`, errors));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) return fail(`want map of ${map[1]}`);
    for (const [k, v] of Object.entries(value as Obj)) validateType(v, map[1], `${path}.${k}`, errors);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return fail(`want object ${type}, got ${JSON.stringify(value)}`);
  const attrs = attributes(type);
  const byName = new Map(attrs.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value as Obj)) {
    const t = byName.get(k);
    if (!t) fail(`unknown field "${k}" in ${type}`);
    else validateType(v, t, `${path}.${k}`, errors);
  }
  for (const r of REQUIRED[type] ?? []) if ((value as Obj)[r] === undefined) fail(`missing required field "${r}" of ${type}`);
  for (const [k, allowed] of Object.entries(ENUMS[type] ?? {})) {
    const v = (value as Obj)[k];
    if (v !== undefined && !allowed.includes(v)) fail(`${k}=${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  }
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkPodTemplate(tmpl: Obj, selector: Obj | undefined, where: string, errors: string[], claims: string[] = []): void {
  const labels = tmpl?.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (labels[k] !== v) errors.push(`${where}: selector ${k}=${v} does not match the template labels`);
  const spec = tmpl?.spec ?? {};
  const volumes = new Set((spec.volumes ?? []).map((v: Obj) => v.name));
  if (volumes.size !== (spec.volumes ?? []).length) errors.push(`${where}: duplicate volume names`);
  // A StatefulSet's volume claim templates are volumes of its pods too.
  for (const c of claims) volumes.add(c);
  const containers: Obj[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const names = containers.map((c) => c.name);
  if (new Set(names).size !== names.length) errors.push(`${where}: duplicate container names ${names}`);
  for (const c of containers) {
    if (!DNS1123.test(c.name ?? '')) errors.push(`${where}: container name "${c.name}" is not a DNS-1123 label`);
    if (!c.image) errors.push(`${where}: container ${c.name} has no image`);
    else if (!/[:@]/.test(c.image.slice(c.image.lastIndexOf('/') + 1)) || /:latest$/.test(c.image)) errors.push(`${where}: container ${c.name} image ${c.image} is not pinned to a tag`);
    const env = (c.env ?? []).map((e: Obj) => e.name);
    if (new Set(env).size !== env.length) errors.push(`${where}: container ${c.name} has duplicate env names`);
    for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) errors.push(`${where}: container ${c.name} mounts undeclared volume ${m.name}`);
    for (const p of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      if (!c[p]) continue;
      const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => c[p][h]);
      if (handlers.length !== 1) errors.push(`${where}: container ${c.name} ${p} needs exactly one handler, has ${handlers}`);
    }
  }
}

/** Validates one rendered object; returns the errors (empty = valid). */
export function validateObject(o: Obj): string[] {
  const errors: string[] = [];
  const id = `${o?.kind ?? '?'}/${o?.metadata?.name ?? o?.metadata?.generateName ?? '?'}`;
  if (typeof o?.apiVersion !== 'string' || typeof o?.kind !== 'string') return [`${id}: apiVersion and kind are required`];
  const model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!model) return [`${id}: no schema known for ${o.apiVersion} ${o.kind}`];
  if (!o.metadata?.name && !o.metadata?.generateName) errors.push(`${id}: metadata.name is required`);
  else if (o.metadata.name && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.metadata.name)) errors.push(`${id}: metadata.name is not a DNS-1123 subdomain`);
  validateType(o, model, id, errors);
  if (o.kind === 'Deployment' || o.kind === 'DaemonSet' || o.kind === 'StatefulSet') {
    checkPodTemplate(o.spec?.template, o.spec?.selector, id, errors, (o.spec?.volumeClaimTemplates ?? []).map((c: Obj) => c.metadata?.name));
  }
  if (o.kind === 'Pod') checkPodTemplate(o, undefined, id, errors);
  return errors;
}

/** A minimal validator of the OpenAPI v3 subset CRD schemas use (structural schemas). */
export function validateOpenApi(value: unknown, schema: Obj, path: string, errors: string[]): void {
  const fail = (why: string): void => void errors.push(`${path}: ${why}`);
  if (value === undefined) return;
  if (value === null) {
    if (!schema.nullable) fail('null is not allowed');
    return;
  }
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return fail(`want object, got ${JSON.stringify(value)}`);
      const props: Obj = schema.properties ?? {};
      for (const r of schema.required ?? []) if ((value as Obj)[r] === undefined) fail(`missing required "${r}"`);
      for (const [k, v] of Object.entries(value as Obj)) {
        if (props[k]) validateOpenApi(v, props[k], `${path}.${k}`, errors);
        else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') validateOpenApi(v, schema.additionalProperties, `${path}.${k}`, errors);
        else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) fail(`unknown field "${k}" (would be rejected by strict field validation)`);
      }
      return;
    }
    case 'array':
      if (!Array.isArray(value)) return fail(`want array, got ${JSON.stringify(value)}`);
      value.forEach((v, i) => schema.items && validateOpenApi(v, schema.items, `${path}[${i}]`, errors));
      return;
    case 'string':
      if (typeof value !== 'string') return fail(`want string, got ${JSON.stringify(value)}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return fail(`want boolean, got ${JSON.stringify(value)}`);
      break;
    case 'integer': {
      if (!Number.isInteger(value)) return fail(`want integer, got ${JSON.stringify(value)}`);
      const n = value as number;
      if (schema.format === 'int32' && (n < -(2 ** 31) || n >= 2 ** 31)) fail(`${n} is out of int32 range`);
      break;
    }
    case 'number':
      if (typeof value !== 'number') return fail(`want number, got ${JSON.stringify(value)}`);
      break;
    case undefined:
      if (!schema['x-kubernetes-preserve-unknown-fields'] && !schema['x-kubernetes-int-or-string']) fail('schema node has no type');
      return;
    default:
      return fail(`unsupported schema type ${schema.type}`);
  }
  if (schema.enum && !schema.enum.includes(value)) fail(`${JSON.stringify(value)} is not one of ${schema.enum}`);
  if (typeof schema.minimum === 'number' && (value as number) < schema.minimum) fail(`${value} < minimum ${schema.minimum}`);
}

/** Structural-schema rule: every node states a type unless it preserves unknown fields. */
export function checkStructural(schema: Obj, path: string, errors: string[]): void {
  if (!schema.type && !schema['x-kubernetes-preserve-unknown-fields'] && !schema['x-kubernetes-int-or-string']) errors.push(`${path}: no type`);
  for (const [k, v] of Object.entries(schema.properties ?? {})) checkStructural(v as Obj, `${path}.${k}`, errors);
  if (schema.items) checkStructural(schema.items, `${path}[]`, errors);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') checkStructural(schema.additionalProperties, `${path}.*`, errors);
}

export function parseAll(yamlText: string): Obj[] {
  return yamlText
    .split(/^---\s*$/m)
    .map((d) => parse(d))
    .filter((d) => d && typeof d === 'object');
}
