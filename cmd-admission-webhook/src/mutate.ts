// The admission decision (components.md §7 "Mutation"): a pure function from an AdmissionReview
// request to its response, so that it is tested without a server.
export interface MutationSettings {
  annotation: string;
  labels: Record<string, string>;
  nsurlEnvName: string;
  initContainerImages: string[];
  containerImages: string[];
  /** NSM_ENVS already split into name/value pairs, in order. */
  envs: { name: string; value: string }[];
  corednsImage: string;
}

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  object?: unknown;
  [k: string]: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: { code: number; message: string; reason?: string };
}

export interface PatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

/** Thrown for a body that is not an AdmissionReview: the server answers HTTP 400. */
export class BadReviewError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where the pod spec lives in each supported kind (JSON pointer of the pod template, "" = the object). */
export const podRoots: Record<string, string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Checks the shape of an AdmissionReview body and returns its request. */
export function parseReview(body: unknown): AdmissionRequest {
  if (!isObj(body)) throw new BadReviewError('body is not a JSON object');
  if (body.kind !== 'AdmissionReview') throw new BadReviewError(`kind is ${JSON.stringify(body.kind)}, want "AdmissionReview"`);
  if (body.apiVersion !== 'admission.k8s.io/v1') throw new BadReviewError(`apiVersion is ${JSON.stringify(body.apiVersion)}, want "admission.k8s.io/v1"`);
  const req = body.request;
  if (!isObj(req)) throw new BadReviewError('request is missing');
  if (typeof req.uid !== 'string' || req.uid === '') throw new BadReviewError('request.uid is missing');
  return req as AdmissionRequest;
}

export interface NsUrl {
  mechanism: string;
  networkService: string;
  interfaceName: string;
  labels: Record<string, string>;
}

/**
 * Parses one network service URL: <mechanism>://<service>[@<domain>][/<interface>][?<k>=<v>[&...]]
 * (components.md §5). Throws an Error whose message says what is wrong.
 */
export function parseNsUrl(raw: string): NsUrl {
  const s = raw.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(s);
  if (!m) throw new Error(`"${s}" has no <mechanism>:// scheme (e.g. kernel://icmp-responder/nsm-1)`);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new Error(`"${s}" is not a valid URL`);
  }
  const host = decodeURIComponent(url.hostname);
  if (!host) throw new Error(`"${s}" names no network service`);
  const user = decodeURIComponent(url.username);
  if (url.password) throw new Error(`"${s}" carries a password`);
  if (url.port) throw new Error(`"${s}" has a port; network service names have none`);
  const segments = url.pathname.split('/').filter(Boolean);
  const iface = segments.length ? decodeURIComponent(segments[segments.length - 1]) : '';
  if (iface.length > 15) throw new Error(`"${s}": interface name "${iface}" is longer than 15 characters`);
  if (/[\s/]/.test(iface)) throw new Error(`"${s}": interface name "${iface}" contains white space`);
  const labels: Record<string, string> = {};
  for (const [k, v] of url.searchParams) labels[k] = k in labels ? `${labels[k]},${v}` : v;
  return { mechanism: m[1].toUpperCase(), networkService: user ? `${user}@${host}` : host, interfaceName: iface, labels };
}

/** Image base name without registry path, tag or digest: ghcr.io/x/cmd-nsc:v1.1.1 -> cmd-nsc. */
export function containerName(image: string): string {
  let s = image.split('@')[0];
  s = s.slice(s.lastIndexOf('/') + 1);
  const colon = s.indexOf(':');
  return colon >= 0 ? s.slice(0, colon) : s;
}

function nsmContainer(image: string, value: string, st: MutationSettings, limits?: Record<string, string>): Obj {
  const c: Obj = {
    name: containerName(image),
    image,
    imagePullPolicy: 'IfNotPresent',
    env: [
      ...st.envs.map((e) => ({ name: e.name, value: e.value })),
      { name: 'SPIFFE_ENDPOINT_SOCKET', value: 'unix:///run/spire/sockets/agent.sock' },
      { name: 'NSM_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: st.nsurlEnvName, value },
    ],
    volumeMounts: [
      { name: 'spire-agent-socket', mountPath: '/run/spire/sockets', readOnly: true },
      { name: 'nsm-socket', mountPath: '/var/lib/networkservicemesh', readOnly: true },
      { name: 'coredns', mountPath: '/etc/coredns' },
    ],
  };
  if (limits && Object.keys(limits).length) c.resources = { limits };
  return c;
}

const allow = (uid: string): AdmissionResponse => ({ uid, allowed: true });

/** Builds the response for one request (never throws for a well-formed review). */
export function review(req: AdmissionRequest, st: MutationSettings): { response: AdmissionResponse; patch?: PatchOp[] } {
  const uid = req.uid;
  if (req.operation !== 'CREATE') return { response: allow(uid) };
  const kind = req.kind?.kind ?? (isObj(req.object) ? req.object.kind : undefined);
  const root = typeof kind === 'string' ? podRoots[kind] : undefined;
  if (!root || !isObj(req.object)) return { response: allow(uid) };

  let pod: unknown = req.object;
  for (const k of root) pod = isObj(pod) ? pod[k] : undefined;
  if (!isObj(pod)) return { response: allow(uid) };
  const meta: Obj = isObj(pod.metadata) ? pod.metadata : {};
  const spec: Obj = isObj(pod.spec) ? pod.spec : {};
  const value = isObj(meta.annotations) ? meta.annotations[st.annotation] : undefined;
  if (typeof value !== 'string' || value === '') return { response: allow(uid) };

  const urls = value.split(',');
  const parsed: NsUrl[] = [];
  for (const u of urls) {
    try {
      parsed.push(parseNsUrl(u));
    } catch (e) {
      const message = `annotation ${st.annotation}="${value}" is malformed: ${(e as Error).message}`;
      return { response: { uid, allowed: false, status: { code: 400, reason: 'BadRequest', message } } };
    }
  }
  // One resource limit per SR-IOV pool: pool name -> number of URLs asking for it.
  const limits: Record<string, string> = {};
  for (const p of parsed) {
    if (!('sriovToken' in p.labels)) continue;
    const pool = p.labels.sriovToken.split(',')[0];
    limits[pool] = String(Number(limits[pool] ?? '0') + 1);
  }

  const list = (v: unknown): Obj[] => (Array.isArray(v) ? v : []);
  const base = root.length ? `/${root.join('/')}` : '';
  const existingLabels = (isObj(meta.labels) ? meta.labels : {}) as Record<string, string>;
  const patch: PatchOp[] = [
    { op: 'add', path: `${base}/spec/initContainers`, value: [...list(spec.initContainers), ...st.initContainerImages.map((i) => nsmContainer(i, value, st, limits))] },
    {
      op: 'add',
      path: `${base}/spec/containers`,
      value: [
        ...list(spec.containers),
        ...st.containerImages.map((i) => nsmContainer(i, value, st)),
        {
          name: 'coredns',
          image: st.corednsImage,
          imagePullPolicy: 'IfNotPresent',
          args: ['-conf', '/etc/coredns/Corefile'],
          resources: { limits: { cpu: '100m', memory: '15Mi' } },
          volumeMounts: [{ name: 'coredns', mountPath: '/etc/coredns' }],
        },
      ],
    },
    {
      op: 'add',
      path: `${base}/spec/volumes`,
      value: [
        ...list(spec.volumes),
        { name: 'spire-agent-socket', hostPath: { path: '/run/spire/sockets', type: 'Directory' } },
        { name: 'nsm-socket', hostPath: { path: '/var/lib/networkservicemesh', type: 'Directory' } },
        { name: 'coredns', emptyDir: {} },
      ],
    },
    // Upstream panics here when the object has no labels and NSM_LABELS is set; we add the map.
    { op: 'add', path: `${base}/metadata/labels`, value: { ...existingLabels, ...st.labels } },
  ];
  return {
    response: { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') },
    patch,
  };
}
