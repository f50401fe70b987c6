// From a Pod object to what the local runtime runs, and back. The API server's validation comes first
// (what a cluster refuses with 422 Invalid is refused here the same way); then the mapping of the one
// container onto a bundle of this repository:
//   image      its last path element without tag or digest names the bundle: .../cmd-nse-icmp-responder:v1
//              runs cmd-nse-icmp-responder/dist/cmd-nse-icmp-responder.js (cmd-nsc and cmd-nse-supplier-k8s
//              likewise); another image never starts (waiting, ErrImagePull), as with an image no
//              registry has
//   command    absent, or the image's entry point ["node", "/bin/<cmd>.js"]; anything else fails to
//              start (CreateContainerError): there is no image file system to run it from
//   args       passed to the command (our commands take their settings as flags too)
//   env        values, and fieldRef to metadata.name / metadata.namespace / metadata.uid /
//              metadata.labels['k'] / spec.nodeName / spec.serviceAccountName / status.hostIP; other
//              sources (secrets, config maps) fail to start (CreateContainerConfigError).
//              NSM_CONNECT_TO pointing at the hostPath socket unix:///var/lib/networkservicemesh/nsm.io.sock
//              becomes the node's socket, as the hostPath mount makes it; SPIFFE_ENDPOINT_SOCKET is the
//              runtime's own.
//   restartPolicy  Always (default), OnFailure, Never, honoured by the supervisor
// Volumes, resources and probes are accepted and not used.
import { generatedSuffix, KubeError, status } from '@nsm/sdk-k8s/api-status';
import { NSMGR_SOCKET_URL } from '@nsm/sdk/cmd/settings';
import type { PodCommand, PodSpec } from '../topology';
import { imageEntrypoint } from '../paths';
import { POD_COMMANDS } from '../topology';
import type { Container, EnvVar, Pod } from './types';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** Pod names name network namespaces and processes here: a DNS label, not the 253-character subdomain. */
export const MAX_POD_NAME = 63;
const POLICIES = ['Always', 'OnFailure', 'Never'] as const;

const invalid = (name: string, causes: string[]) =>
  new KubeError(status(422, 'Invalid', `Pod "${name}" is invalid: ${causes.join(', ')}`, { name, kind: 'Pod', causes: causes.map((message) => ({ message })) }));
const badRequest = (msg: string) => new KubeError(status(400, 'BadRequest', msg));

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** Checks a create body as the API server does, and fills the server-side defaults. */
export function validatePod(body: unknown, namespace: string, taken: (name: string) => boolean): Pod {
  if (!isObj(body)) throw badRequest('the request body is not a JSON object');
  if (body.apiVersion !== 'v1' || body.kind !== 'Pod') throw badRequest(`the API version in the data (${String(body.apiVersion)}) or kind (${String(body.kind)}) does not match v1 Pod`);
  const meta = isObj(body.metadata) ? { ...body.metadata } : {};
  if (meta.namespace !== undefined && meta.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  if (meta.resourceVersion) throw new KubeError(status(500, 'InternalError', 'resourceVersion should not be set on objects to be created'));
  if (!meta.name && typeof meta.generateName === 'string') {
    const prefix = meta.generateName.slice(0, MAX_POD_NAME - 5);
    do meta.name = prefix + generatedSuffix();
    while (taken(meta.name as string));
  }
  const name = typeof meta.name === 'string' ? meta.name : '';
  const causes: string[] = [];
  if (!name) causes.push('metadata.name: Required value: name or generateName is required');
  else if (name.length > MAX_POD_NAME || !LABEL.test(name)) causes.push(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 label of at most ${MAX_POD_NAME} characters (pod names name network namespaces in the local runtime)`);
  for (const field of ['labels', 'annotations'] as const) {
    if (meta[field] === undefined) continue;
    if (!isObj(meta[field]) || Object.values(meta[field]).some((v) => typeof v !== 'string')) causes.push(`metadata.${field}: Invalid value: must be a map of strings`);
  }
  for (const [k, v] of Object.entries(isObj(meta.labels) ? meta.labels : {})) {
    if (!LABEL_KEY.test(k)) causes.push(`metadata.labels: Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'`);
    if (typeof v === 'string' && (v.length > 63 || !LABEL_VALUE.test(v))) causes.push(`metadata.labels: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`);
  }
  const spec = isObj(body.spec) ? body.spec : {};
  const containers = Array.isArray(spec.containers) ? (spec.containers as unknown[]) : [];
  if (containers.length === 0) causes.push('spec.containers: Required value');
  const initContainers = spec.initContainers === undefined ? [] : Array.isArray(spec.initContainers) ? (spec.initContainers as unknown[]) : undefined;
  if (!initContainers) causes.push('spec.initContainers: Invalid value: must be a list');
  const names = new Set<string>();
  const check = (c: unknown, where: string) => {
    if (!isObj(c)) return causes.push(`${where}: Invalid value: must be an object`);
    if (typeof c.name !== 'string' || !LABEL.test(c.name)) causes.push(`${where}.name: Invalid value: ${JSON.stringify(c.name ?? '')}: a lowercase RFC 1123 label`);
    else if (names.has(c.name)) causes.push(`${where}.name: Duplicate value: "${c.name}"`);
    else names.add(c.name);
    if (typeof c.image !== 'string' || !c.image.trim()) causes.push(`${where}.image: Required value`);
    for (const f of ['command', 'args'] as const) {
      if (c[f] !== undefined && (!Array.isArray(c[f]) || (c[f] as unknown[]).some((a) => typeof a !== 'string'))) causes.push(`${where}.${f}: Invalid value: must be a list of strings`);
    }
    if (c.env !== undefined && (!Array.isArray(c.env) || (c.env as unknown[]).some((e) => !isObj(e) || typeof e.name !== 'string' || !e.name))) {
      causes.push(`${where}.env: Invalid value: each entry needs a name`);
    }
  };
  (initContainers ?? []).forEach((c, i) => check(c, `spec.initContainers[${i}]`));
  containers.forEach((c, i) => check(c, `spec.containers[${i}]`));
  const policy = spec.restartPolicy ?? 'Always';
  if (!POLICIES.includes(policy as (typeof POLICIES)[number])) causes.push(`spec.restartPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Always", "OnFailure", "Never"`);
  if (spec.nodeName !== undefined && (typeof spec.nodeName !== 'string' || !spec.nodeName)) causes.push('spec.nodeName: Invalid value: must be a node name');
  if (causes.length) throw invalid(name, causes);
  if (taken(name)) throw new KubeError(status(409, 'AlreadyExists', `pods "${name}" already exists`, { name, kind: 'pods' }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...meta, name, namespace } as Pod['metadata'],
    spec: { ...spec, restartPolicy: policy as Pod['spec']['restartPolicy'], containers: containers as Container[] },
    status: { phase: 'Pending' },
  };
}

export interface Launch {
  spec: PodSpec;
}
/** Why a validated pod does not start: the container's waiting reason, as a kubelet reports it. */
export interface NoLaunch {
  waiting: { reason: string; message: string };
}

export const bundleOf = (image: string): PodCommand | undefined => {
  const base = image.split('/').pop()!.split('@')[0].split(':')[0];
  return POD_COMMANDS.find((c) => `cmd-${c}` === base);
};

function fieldValue(pod: Pod, path: string, hostIP: string): string | undefined {
  const label = /^metadata\.labels\['([^']+)'\]$/.exec(path);
  if (label) return pod.metadata.labels?.[label[1]] ?? '';
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec.nodeName,
    'spec.serviceAccountName': (pod.spec.serviceAccountName as string | undefined) ?? 'default',
    'status.hostIP': hostIP,
  };
  return Object.hasOwn(fields, path) ? (fields[path] ?? '') : undefined;
}

/**
 * A container's environment: values and field references (other sources cannot start: the kubelet's
 * CreateContainerConfigError); the hostPath socket of the NSM manager is the node's; the SPIRE socket
 * is the runtime's own (given to every process of the pod).
 */
export function containerEnv(pod: Pod, c: Container, node: { ip: string; nsmSocket: string }): { env: Record<string, string> } | NoLaunch {
  const env: Record<string, string> = {};
  for (const e of (c.env ?? []) as EnvVar[]) {
    if (e.value !== undefined || !e.valueFrom) env[e.name] = String(e.value ?? '');
    else {
      const path = e.valueFrom.fieldRef?.fieldPath;
      const v = path === undefined ? undefined : fieldValue(pod, path, node.ip);
      if (v === undefined) {
        const source = path ?? Object.keys(e.valueFrom).join(', ');
        return { waiting: { reason: 'CreateContainerConfigError', message: `env ${e.name}: ${source} is not available in the local runtime (field references only)` } };
      }
      env[e.name] = v;
    }
  }
  if (env.NSM_CONNECT_TO === NSMGR_SOCKET_URL) env.NSM_CONNECT_TO = `unix://${node.nsmSocket}`;
  delete env.SPIFFE_ENDPOINT_SOCKET;
  return { env };
}

/**
 * Whether a container's command runs bundle `bundle` as its image does: the image's entry point, or
 * node and the bundle without its V8 flags (the local runtime runs it with them either way).
 */
export function runsImageEntry(command: string[], bundle: string): boolean {
  const cmd = JSON.stringify(command);
  return cmd === JSON.stringify(imageEntrypoint(`cmd-${bundle}`)) || cmd === JSON.stringify(['node', `/bin/cmd-${bundle}.js`]);
}

/** What to run for a scheduled pod, given its node's address and socket. */
export function launchPlan(pod: Pod, node: { name: string; ip: string; nsmSocket: string }): Launch | NoLaunch {
  const c = pod.spec.containers[0];
  const command = bundleOf(c.image ?? '');
  if (!command) return { waiting: { reason: 'ErrImagePull', message: `image "${c.image}" is none of this repository's bundles (${POD_COMMANDS.map((x) => `cmd-${x}`).join(', ')})` } };
  if (c.command && !runsImageEntry(c.command, command)) {
    return { waiting: { reason: 'CreateContainerError', message: `command ${JSON.stringify(c.command)}: the local runtime runs only the image's entry point ${JSON.stringify(imageEntrypoint(`cmd-${command}`))}` } };
  }
  const env = containerEnv(pod, c, node);
  if ('waiting' in env) return env;
  return {
    spec: {
      name: pod.metadata.name,
      node: node.name,
      command,
      env: env.env,
      args: c.args ?? [],
      restartPolicy: pod.spec.restartPolicy ?? 'Always',
      namespace: pod.metadata.namespace,
      labels: pod.metadata.labels ?? {},
    },
  };
}

/** The Pod object of a pod started from a topology file (nsm-local apply). */
export function podFromSpec(spec: PodSpec): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: spec.namespace ?? 'default', labels: { ...(spec.labels ?? {}) } },
    spec: {
      nodeName: spec.node,
      restartPolicy: spec.restartPolicy ?? 'Always',
      containers: [
        {
          name: spec.command ?? 'main',
          image: `cmd-${spec.command}`,
          ...(spec.args?.length ? { args: spec.args } : {}),
          env: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
        },
      ],
    },
    status: { phase: 'Pending' },
  };
}
