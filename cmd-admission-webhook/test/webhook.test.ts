// POSTs real AdmissionReviews over HTTPS to the webhook (in-process and as the built bundle) and
// applies the returned JSON Patch with fast-json-patch.
import { spawn, spawnSync, ChildProcess, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { applyPatch, Operation } from 'fast-json-patch';
import { resolveConfig } from '@nsm/sdk/cmd/config';
import { schema } from '../src/config';
import { start } from '../src/main';
import { containerName, parseNsUrl } from '../src/mutate';
import { webhookConfiguration } from '../src/register';
import { selfSigned } from '../src/tls';

const root = join(__dirname, '..', '..');
const bundle = join(root, 'cmd-admission-webhook', 'dist', 'cmd-admission-webhook.js');
const SERVICE = 'admission-webhook-svc';
const NAMESPACE = 'nsm-system';
const env = {
  NSM_LISTEN_ON: '127.0.0.1:0',
  NSM_SERVICE_NAME: SERVICE,
  NSM_NAMESPACE: NAMESPACE,
  NSM_CONTAINER_IMAGES: 'ghcr.io/nsm-ts/cmd-nsc:v0.1.0',
  NSM_INIT_CONTAINER_IMAGES: 'ghcr.io/nsm-ts/cmd-nsc-init:v0.1.0',
  NSM_LABELS: 'spiffe.io/spiffe-id:true',
  NSM_ENVS: 'NSM_LOG_LEVEL=TRACE,NSM_REQUEST_TIMEOUT=20s',
  NSM_LOG_LEVEL: 'error',
};

interface Reply {
  status: number;
  body: string;
}

function post(port: number, ca: string, body: string, path = '/mutate', method = 'POST'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      // Verified against the webhook's own CA, under the name the API server uses.
      { host: '127.0.0.1', port, path, method, ca, servername: `${SERVICE}.${NAMESPACE}.svc`, headers: { 'content-type': 'application/json' } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const reviewOf = (uid: string, kind: { group: string; version: string; kind: string }, object: unknown, operation = 'CREATE') =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind, resource: {}, operation, namespace: 'ns-1', object } });

const pod = (annotations?: Record<string, string>, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'alpine', namespace: 'ns-1', ...(annotations ? { annotations } : {}), ...(labels ? { labels } : {}) },
  spec: { containers: [{ name: 'alpine', image: 'alpine:3.20', command: ['sleep', 'infinity'] }], volumes: [{ name: 'data', emptyDir: {} }] },
});
const POD = { group: '', version: 'v1', kind: 'Pod' };
const ANN = 'kernel://my-postgres-service/nsm-1,kernel://icmp-responder/nsm-2?sriovToken=intel.com/10G';

function checkPodSpec(spec: any, meta: any, annotation: string) {
  expect(spec.containers.map((c: any) => c.name)).toEqual(['alpine', 'cmd-nsc', 'coredns']);
  expect(spec.initContainers.map((c: any) => c.name)).toEqual(['cmd-nsc-init']);
  const nsc = spec.containers[1];
  expect(nsc.image).toBe('ghcr.io/nsm-ts/cmd-nsc:v0.1.0');
  expect(nsc.imagePullPolicy).toBe('IfNotPresent');
  expect(nsc.env).toEqual([
    { name: 'NSM_LOG_LEVEL', value: 'TRACE' },
    { name: 'NSM_REQUEST_TIMEOUT', value: '20s' },
    { name: 'SPIFFE_ENDPOINT_SOCKET', value: 'unix:///run/spire/sockets/agent.sock' },
    { name: 'NSM_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'NSM_NETWORK_SERVICES', value: annotation },
  ]);
  expect(nsc.volumeMounts).toEqual([
    { name: 'spire-agent-socket', mountPath: '/run/spire/sockets', readOnly: true },
    { name: 'nsm-socket', mountPath: '/var/lib/networkservicemesh', readOnly: true },
    { name: 'coredns', mountPath: '/etc/coredns' },
  ]);
  expect(nsc.resources).toBeUndefined();
  const init = spec.initContainers[0];
  expect(init.image).toBe('ghcr.io/nsm-ts/cmd-nsc-init:v0.1.0');
  expect(init.env).toEqual(nsc.env);
  expect(init.volumeMounts).toEqual(nsc.volumeMounts);
  if (annotation.includes('sriovToken')) expect(init.resources).toEqual({ limits: { 'intel.com/10G': '1' } });
  expect(spec.containers[2]).toEqual({
    name: 'coredns',
    image: 'networkservicemesh/coredns:master',
    imagePullPolicy: 'IfNotPresent',
    args: ['-conf', '/etc/coredns/Corefile'],
    resources: { limits: { cpu: '100m', memory: '15Mi' } },
    volumeMounts: [{ name: 'coredns', mountPath: '/etc/coredns' }],
  });
  expect(spec.volumes).toEqual([
    { name: 'data', emptyDir: {} },
    { name: 'spire-agent-socket', hostPath: { path: '/run/spire/sockets', type: 'Directory' } },
    { name: 'nsm-socket', hostPath: { path: '/var/lib/networkservicemesh', type: 'Directory' } },
    { name: 'coredns', emptyDir: {} },
  ]);
  expect(meta.labels).toEqual({ app: 'alpine', 'spiffe.io/spiffe-id': 'true' });
}

function decode(reply: Reply, uid: string) {
  expect(reply.status).toBe(200);
  const review = JSON.parse(reply.body);
  expect(review.apiVersion).toBe('admission.k8s.io/v1');
  expect(review.kind).toBe('AdmissionReview');
  expect(review.response.uid).toBe(uid);
  return review.response;
}

function patched(response: any, object: unknown): any {
  expect(response.patchType).toBe('JSONPatch');
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Operation[];
  expect(ops.map((o) => o.op)).toEqual(['add', 'add', 'add', 'add']);
  return applyPatch(structuredClone(object), ops, true, false).newDocument;
}

/** The scenarios, run against both the in-process server and the bundle. */
function scenarios(target: () => { port: number; ca: string }) {
  test('annotated Pod gets init container, sidecars, volumes, env and labels', async () => {
    const obj = pod({ 'networkservicemesh.io': ANN }, { app: 'alpine' });
    const res = decode(await post(target().port, target().ca, reviewOf('u-pod', POD, obj)), 'u-pod');
    expect(res.allowed).toBe(true);
    const out = patched(res, obj);
    checkPodSpec(out.spec, out.metadata, ANN);
    expect(out.metadata.annotations).toEqual({ 'networkservicemesh.io': ANN });
  });

  test("annotated Deployment's pod template is mutated at /spec/template", async () => {
    const ann = 'kernel://icmp-responder/nsm-1';
    const tmpl = pod({ 'networkservicemesh.io': ann }, { app: 'alpine' });
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'alpine', labels: { keep: 'me' } }, spec: { selector: { matchLabels: { app: 'alpine' } }, template: { metadata: tmpl.metadata, spec: tmpl.spec } } };
    const res = decode(await post(target().port, target().ca, reviewOf('u-dep', { group: 'apps', version: 'v1', kind: 'Deployment' }, dep)), 'u-dep');
    expect(res.allowed).toBe(true);
    const ops = JSON.parse(Buffer.from(res.patch, 'base64').toString());
    expect(ops.map((o: any) => o.path)).toEqual(['/spec/template/spec/initContainers', '/spec/template/spec/containers', '/spec/template/spec/volumes', '/spec/template/metadata/labels']);
    const out = patched(res, dep);
    checkPodSpec(out.spec.template.spec, out.spec.template.metadata, ann);
    expect(out.metadata.labels).toEqual({ keep: 'me' });
    expect(out.spec.selector).toEqual(dep.spec.selector);
  });

  test('unannotated Pod is allowed without a patch', async () => {
    const res = decode(await post(target().port, target().ca, reviewOf('u-plain', POD, pod(undefined, { app: 'x' }))), 'u-plain');
    expect(res).toEqual({ uid: 'u-plain', allowed: true });
  });

  test('malformed annotation is denied with a clear message', async () => {
    const obj = pod({ 'networkservicemesh.io': 'icmp-responder/nsm-1' });
    const res = decode(await post(target().port, target().ca, reviewOf('u-bad', POD, obj)), 'u-bad');
    expect(res.allowed).toBe(false);
    expect(res.patch).toBeUndefined();
    expect(res.status.code).toBe(400);
    expect(res.status.message).toMatch(/annotation networkservicemesh\.io="icmp-responder\/nsm-1" is malformed: .*no <mechanism>:\/\/ scheme/);
  });

  test('malformed body gets HTTP 400', async () => {
    const a = await post(target().port, target().ca, '{not json');
    expect(a.status).toBe(400);
    expect(a.body).toMatch(/malformed AdmissionReview: body is not JSON/);
    const b = await post(target().port, target().ca, JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }));
    expect(b.status).toBe(400);
    expect(b.body).toMatch(/request is missing/);
  });

  test('a non-Pod kind is allowed unchanged', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', annotations: { 'networkservicemesh.io': ANN } }, data: {} };
    const res = decode(await post(target().port, target().ca, reviewOf('u-cm', { group: '', version: 'v1', kind: 'ConfigMap' }, cm)), 'u-cm');
    expect(res).toEqual({ uid: 'u-cm', allowed: true });
  });

  test('GET /ready answers 200', async () => {
    expect((await post(target().port, target().ca, '', '/ready', 'GET')).status).toBe(200);
  });
}

describe('in-process server', () => {
  let srv: { stop(): Promise<void>; port: number; caBundlePem: string };
  beforeAll(async () => {
    srv = await start(resolveConfig(schema, {}, env), { HOME: '/nonexistent' });
  });
  afterAll(() => srv?.stop());
  scenarios(() => ({ port: srv.port, ca: srv.caBundlePem }));

  test('UPDATE and template kinds other than Deployment', async () => {
    const obj = pod({ 'networkservicemesh.io': 'kernel://a/nsm-1' }, { app: 'alpine' });
    expect(decode(await post(srv.port, srv.caBundlePem, reviewOf('u-upd', POD, obj, 'UPDATE')), 'u-upd')).toEqual({ uid: 'u-upd', allowed: true });
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { metadata: obj.metadata, spec: obj.spec } } } } };
    const res = decode(await post(srv.port, srv.caBundlePem, reviewOf('u-cron', { group: 'batch', version: 'v1', kind: 'CronJob' }, cron)), 'u-cron');
    const out = patched(res, cron);
    expect(out.spec.jobTemplate.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['alpine', 'cmd-nsc', 'coredns']);
  });
});

describe('refuses to start without the images it must inject', () => {
  test('in process: start() throws naming NSM_CONTAINER_IMAGES, and serves nothing', async () => {
    const cfg = resolveConfig(schema, {}, { ...env, NSM_CONTAINER_IMAGES: '', NSM_INIT_CONTAINER_IMAGES: '' });
    await expect(start(cfg, { HOME: '/nonexistent' })).rejects.toThrow(/NSM_CONTAINER_IMAGES is not set/);
    // Init images alone are not enough: nothing would keep the connection after the init container.
    await expect(start(resolveConfig(schema, {}, { ...env, NSM_CONTAINER_IMAGES: ' , ' }), { HOME: '/nonexistent' })).rejects.toThrow(/NSM_CONTAINER_IMAGES is not set/);
  });

  test('the bundle exits non-zero with the message when the variable is absent', () => {
    execFileSync(process.execPath, [join(root, 'tools', 'build.mjs'), 'cmd-admission-webhook'], { cwd: root, stdio: 'ignore' });
    const { NSM_CONTAINER_IMAGES: _drop, ...rest } = env;
    const r = spawnSync(process.execPath, [bundle], { env: { PATH: process.env.PATH, HOME: '/nonexistent', ...rest, NSM_LISTEN_ON: '127.0.0.1:0' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/NSM_CONTAINER_IMAGES is not set/);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/serving HTTPS/);
  });
});

describe('built bundle as a child process', () => {
  let child: ChildProcess | undefined;
  let port = 0;
  let ca = '';
  beforeAll(async () => {
    // Always rebuilt so that the bundle under test is the current source.
    execFileSync(process.execPath, [join(root, 'tools', 'build.mjs'), 'cmd-admission-webhook'], { cwd: root, stdio: 'inherit' });
    port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    // Certificate files given: the bundle must serve them (not a fresh self-signed one).
    const dir = mkdtempSync(join(tmpdir(), 'webhook-'));
    const cert = selfSigned(SERVICE, NAMESPACE);
    writeFileSync(join(dir, 'tls.crt'), cert.certPem);
    writeFileSync(join(dir, 'tls.key'), cert.keyPem);
    ca = cert.certPem;
    const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, ...env, NSM_LOG_LEVEL: 'info', NSM_LISTEN_ON: `127.0.0.1:${port}`, NSM_CERT_FILE_PATH: join(dir, 'tls.crt'), NSM_KEY_FILE_PATH: join(dir, 'tls.key') };
    child = spawn(process.execPath, [bundle], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`bundle not ready in 20s:\n${out}`)), 20_000);
      const on = (c: Buffer) => {
        out += c.toString();
        if (/"msg":"ready"/.test(out)) {
          clearTimeout(t);
          resolve();
        }
      };
      child!.stdout!.on('data', on);
      child!.stderr!.on('data', on);
      child!.on('exit', (code) => reject(new Error(`bundle exited ${code}:\n${out}`)));
    });
    expect(out).toMatch(/effective configuration/);
    expect(out).toMatch(/skipping MutatingWebhookConfiguration registration/);
    expect(out).toMatch(/files .*tls\.crt/);
  });
  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });
  scenarios(() => ({ port, ca }));
});

describe('units', () => {
  test('self-signed certificate matches components.md §7', () => {
    const before = Math.floor(Date.now() / 1000);
    const c = new X509Certificate(selfSigned('svc', 'ns').certPem);
    expect(c.subject).toBe('CN=networkservicemesh.svc-ca');
    expect(c.issuer).toBe(c.subject);
    expect(c.subjectAltName).toBe('DNS:svc.ns, DNS:svc.ns.svc');
    expect(c.ca).toBe(true);
    expect(c.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(c.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(c.verify(c.publicKey)).toBe(true);
    const serial = parseInt(c.serialNumber, 16);
    expect(serial).toBeGreaterThanOrEqual(before);
    const days = (Date.parse(c.validTo) - Date.parse(c.validFrom)) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(365);
    expect(days).toBeLessThanOrEqual(366);
    if (existsSync('/usr/bin/openssl')) {
      const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: selfSigned('svc', 'ns').certPem }).toString();
      expect(text).toMatch(/Digital Signature, Key Encipherment, Certificate Sign/);
      expect(text).toMatch(/CA:TRUE/);
    }
  });

  test('URL parsing and container names', () => {
    expect(parseNsUrl('kernel://secure-proxy@cloud2.com/if-proxy?username=jdoe')).toEqual({ mechanism: 'KERNEL', networkService: 'secure-proxy@cloud2.com', interfaceName: 'if-proxy', labels: { username: 'jdoe' } });
    expect(parseNsUrl('vfio://l2-controller?sriovToken=l2.domain/1G').labels).toEqual({ sriovToken: 'l2.domain/1G' });
    expect(() => parseNsUrl('kernel://icmp-responder/an-interface-name-too-long')).toThrow(/longer than 15/);
    expect(() => parseNsUrl('kernel:///nsm-1')).toThrow(/names no network service/);
    expect(containerName('ghcr.io/networkservicemesh/cmd-nsc:v1.1.1')).toBe('cmd-nsc');
    expect(containerName('localhost:5000/cmd-nsc-init@sha256:abc')).toBe('cmd-nsc-init');
  });

  test('webhook configuration', () => {
    const w = webhookConfiguration({ name: 'wh-pod', annotation: 'networkservicemesh.io', serviceName: SERVICE, namespace: NAMESPACE, caBundlePem: 'PEM' });
    expect(w.metadata?.name).toBe('wh-pod');
    const h = w.webhooks![0];
    expect(h.name).toBe('wh-pod.networkservicemesh.io');
    expect(h.failurePolicy).toBe('Fail');
    expect(h.sideEffects).toBe('None');
    expect(h.admissionReviewVersions).toEqual(['v1']);
    expect(h.clientConfig).toEqual({ service: { namespace: NAMESPACE, name: SERVICE, path: '/mutate' }, caBundle: Buffer.from('PEM').toString('base64') });
    expect(h.rules).toEqual([
      { operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
      { operations: ['CREATE', 'UPDATE'], apiGroups: ['extensions'], apiVersions: ['v1'], resources: ['deployments'] },
    ]);
  });
});
