// The admission webhook in the loop, as an API server has it: cmd-admission-webhook runs as a
// supervised process of the mesh (settings as deployments-k8s/apps/admission-webhook-k8s gives them),
// serving HTTPS with a certificate the runtime makes for admission-webhook-svc.default.svc and trusts
// alone; every pod created from a manifest is POSTed to it as an admission.k8s.io/v1 AdmissionReview
// (CREATE), and its JSON Patch is applied, or its refusal returned. The runtime holds the equivalent of
// the MutatingWebhookConfiguration itself (pods, CREATE, failurePolicy Fail): the webhook does not
// register (NSM_REGISTER=false), there being no admissionregistration API here. It listens on a unix
// socket: the daemon is not on the pods' network.
import { randomUUID, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { applyPatch, type Operation } from 'fast-json-patch';
import { KubeError, status } from '@nsm/sdk-k8s/api-status';
import { x509 } from '@nsm/sdk/spiffe/x509';
import { commandArgv, type MeshPaths } from './paths';
import type { Supervisor } from './supervisor';
import type { Pod } from './kube/types';

export const WEBHOOK = 'admission-webhook';
const SERVICE = 'admission-webhook-svc';
const NAMESPACE = 'default';
/** The name the API server checks the certificate against (the Service's DNS name). */
export const WEBHOOK_HOST = `${SERVICE}.${NAMESPACE}.svc`;
/** The webhook's name in the configuration it would register: <NSM_NAME>.<annotation>. */
const CONFIG_NAME = `admission-webhook-k8s.networkservicemesh.io`;

/** Its settings, as the manifest sets them (the images: ours, by repository name cmd-nsc). */
export const WEBHOOK_ENV: Record<string, string> = {
  NSM_NAME: 'admission-webhook-k8s',
  NSM_SERVICE_NAME: SERVICE,
  NSM_NAMESPACE: NAMESPACE,
  NSM_ANNOTATION: 'networkservicemesh.io',
  NSM_CONTAINER_IMAGES: 'ghcr.io/nsm-ts/cmd-nsc:v0.1.0',
  NSM_INIT_CONTAINER_IMAGES: '',
};

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const MAX_ANSWER = 4 * 1024 * 1024;

/** A self-signed serving certificate for the webhook's Service name; the runtime trusts only it. */
async function servingCert(): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${WEBHOOK_HOST}`,
    notBefore: new Date(now - 10_000),
    notAfter: new Date(now + 365 * 86_400_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: `${SERVICE}.${NAMESPACE}` },
        { type: 'dns', value: WEBHOOK_HOST },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem'), keyPem };
}

function post(socket: string, ca: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: socket, path, method: body === undefined ? 'GET' : 'POST', ca, servername: WEBHOOK_HOST, headers: { 'content-type': 'application/json' }, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          // An AdmissionReview answer is a patch of a pod: a few kB.
          if (text.length > MAX_ANSWER) req.destroy(new Error(`answer larger than ${MAX_ANSWER} bytes`));
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

const denied = (code: number, message: string) => new KubeError(status(code, code === 400 ? 'BadRequest' : 'InternalError', message));

export class LocalWebhook {
  private ca = '';
  private starting?: Promise<void>;

  constructor(
    private readonly paths: MeshPaths,
    private readonly supervisor: Supervisor,
  ) {}

  get socket(): string {
    return join(this.paths.root, 'webhook', 'webhook.sock');
  }

  get running(): boolean {
    return this.supervisor.has(WEBHOOK);
  }

  /** Starts the webhook once (in the fabric's namespace); resolves when it answers /ready. */
  ensure(netns: string, env: Record<string, string>): Promise<void> {
    this.starting ??= this.start(netns, env).catch(async (err) => {
      await this.supervisor.stop(WEBHOOK, 0);
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  private async start(netns: string, env: Record<string, string>): Promise<void> {
    const dir = join(this.paths.root, 'webhook');
    mkdirSync(dir, { recursive: true });
    const { certPem, keyPem } = await servingCert();
    writeFileSync(join(dir, 'tls.crt'), certPem);
    writeFileSync(join(dir, 'tls.key'), keyPem);
    chmodSync(join(dir, 'tls.key'), 0o600);
    this.ca = certPem;
    const logFile = join(this.paths.logs, `${WEBHOOK}.log`);
    let exited: number | null | undefined;
    this.supervisor.start({
      name: WEBHOOK,
      netns,
      argv: commandArgv('cmd-admission-webhook'),
      env: {
        ...WEBHOOK_ENV,
        NSM_LISTEN_ON: `unix://${this.socket}`,
        NSM_REGISTER: 'false',
        NSM_CERT_FILE_PATH: join(dir, 'tls.crt'),
        NSM_KEY_FILE_PATH: join(dir, 'tls.key'),
        ...env,
      },
      logFile,
      onExit: (e) => (exited = e.code),
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (exited !== undefined) throw new Error(`the admission webhook exited with ${exited}: ${lastError(logFile)}`);
      if (existsSync(this.socket) && (await post(this.socket, this.ca, '/ready').catch(() => undefined))?.status === 200) return;
      if (Date.now() > deadline) throw new Error(`the admission webhook did not become ready within 20 s (log: ${logFile})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends a pod to the webhook as the API server does on CREATE; returns the pod as admitted. */
  async admit(pod: Pod, namespace: string): Promise<Pod> {
    const uid = randomUUID();
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        requestKind: { group: '', version: 'v1', kind: 'Pod' },
        requestResource: { group: '', version: 'v1', resource: 'pods' },
        name: pod.metadata?.name ?? '',
        namespace,
        operation: 'CREATE',
        userInfo: { username: 'nsm-local', groups: ['system:masters', 'system:authenticated'] },
        object: pod,
        oldObject: null,
        dryRun: false,
        options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      },
    };
    const what = `admission webhook "${CONFIG_NAME}"`;
    let r: { status: number; text: string };
    try {
      r = await post(this.socket, this.ca, '/mutate', JSON.stringify(review));
    } catch (err) {
      // failurePolicy Fail: a webhook that cannot be called refuses the pod.
      throw denied(500, `Internal error occurred: failed calling webhook "${CONFIG_NAME}": ${(err as Error).message}`);
    }
    if (r.status !== 200) throw denied(500, `Internal error occurred: failed calling webhook "${CONFIG_NAME}": HTTP ${r.status}: ${r.text.trim()}`);
    let response: { uid?: string; allowed?: boolean; patchType?: string; patch?: string; status?: { code?: number; message?: string } } | undefined;
    try {
      response = (JSON.parse(r.text) as { response?: typeof response }).response;
    } catch {
      throw denied(500, `${what} answered with a body that is not JSON`);
    }
    if (!response || response.uid !== uid) throw denied(500, `${what} answered for uid ${JSON.stringify(response?.uid)}, not ${uid}`);
    if (response.allowed !== true) throw denied(response.status?.code ?? 400, `${what} denied the request: ${response.status?.message ?? '(no message)'}`);
    if (!response.patch) return pod;
    if (response.patchType !== 'JSONPatch') throw denied(500, `${what} answered with patchType ${JSON.stringify(response.patchType)}, not JSONPatch`);
    let ops: Operation[];
    try {
      ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Operation[];
      return applyPatch(structuredClone(pod), ops, true, false).newDocument;
    } catch (err) {
      throw denied(500, `${what} answered with a patch that does not apply: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    await this.supervisor.stop(WEBHOOK);
    this.starting = undefined;
  }
}

function lastError(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '(no log)';
  }
}
