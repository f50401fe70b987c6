// Runs the real bundle as a child process on a temp unix socket: with the memory store, and with the
// k8s store against the fake API server (KUBECONFIG → STORE=auto picks k8s).
import '@nsm/sdk-k8s/node-compat';
// socks-proxy-agent (loaded by @kubernetes/client-node) ships ES modules only; the shared jest config
// does not transform it and nothing here uses a SOCKS proxy.
jest.mock('socks-proxy-agent', () => ({ SocksProxyAgent: class {} }));
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { FakeApiServer } from '@nsm/sdk-k8s/testing/fake-apiserver';
import { Context } from '@nsm/sdk/core/context';
import { findAll } from '@nsm/sdk/core/registry';
import { nseRegistryClient, nsRegistryClient } from '@nsm/sdk/grpc/registry';
import { tempDir } from '@nsm/sdk/testing';
import { chooseStore } from '../src/config';

const root = join(__dirname, '..', '..');
const bundle = join(root, 'cmd-registry-k8s', 'dist', 'cmd-registry-k8s.js');

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'tools', 'build.mjs'), 'cmd-registry-k8s'], { cwd: root, stdio: 'pipe' });
}, 120_000);

function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_K8S_') && k !== 'KUBECONFIG' && k !== 'KUBERNETES_SERVICE_HOST'));
  const child = spawn(process.execPath, [bundle], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, cond: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function exercise(url: string) {
  const ctx = Context.background();
  const nse = nseRegistryClient(url);
  const ns = nsRegistryClient(url);
  try {
    const svc = await ns.register(ctx, NetworkService.fromPartial({ name: 'svc-cmd' }));
    expect(svc.payload).toBe('IP');
    const out = await nse.register(
      ctx,
      NetworkServiceEndpoint.fromPartial({ name: 'nse-cmd', networkServiceNames: ['svc-cmd'], url: 'tcp://10.0.0.7:5001' }),
    );
    expect(out.expirationTime).toBeDefined();
    const found = await findAll(nse, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['svc-cmd'] }));
    expect(found.map((r) => r.item.name)).toEqual(['nse-cmd']);
    expect((await findAll(ns, ctx, NetworkService.fromPartial({ name: 'svc-cmd' }))).length).toBe(1);
  } finally {
    nse.close();
    ns.close();
  }
}

describe('cmd-registry-k8s bundle', () => {
  const tmp = tempDir('nsm-regcmd-');
  afterAll(() => tmp.cleanup());

  test('serves both registries from memory and exits 0 on SIGTERM', async () => {
    const url = `unix://${tmp.dir}/mem.sock`;
    const p = run({ REGISTRY_K8S_LISTEN_ON: url, REGISTRY_K8S_STORE: 'memory', REGISTRY_K8S_EXPIRE_PERIOD: '30s' });
    try {
      await until('ready', () => p.output().includes('"msg":"ready"'));
      expect(p.output()).toContain('"REGISTRY_K8S_EXPIRE_PERIOD":"30s"');
      expect(p.output()).toContain('"store":"memory"');
      await exercise(url);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });

  test('keeps records as custom resources with STORE=auto and KUBECONFIG', async () => {
    const api = await FakeApiServer.start();
    try {
      const kubeconfig = join(tmp.dir, 'kubeconfig');
      writeFileSync(kubeconfig, api.kubeConfig().exportConfig());
      const url = `unix://${tmp.dir}/k8s.sock`;
      const p = run({ REGISTRY_K8S_LISTEN_ON: url, REGISTRY_K8S_NAMESPACE: 'nsm-system', KUBECONFIG: kubeconfig });
      try {
        await until('ready', () => p.output().includes('"msg":"ready"'));
        expect(p.output()).toContain('"store":"k8s');
        await exercise(url);
        expect(api.stored('networkserviceendpoints', 'nsm-system').map((o) => o.metadata.name)).toEqual(['nse-cmd']);
        expect(api.stored('networkservices', 'nsm-system').map((o) => o.spec.payload)).toEqual(['IP']);
      } finally {
        p.child.kill('SIGTERM');
      }
      expect(await p.exited).toBe(0);
    } finally {
      await api.close();
    }
  });

  test('--help lists every setting with its default', () => {
    const help = execFileSync(process.execPath, [bundle, '--help'], { encoding: 'utf8' });
    for (const s of [
      'REGISTRY_K8S_LISTEN_ON] (default: unix:///listen.on.socket)',
      'REGISTRY_K8S_NAMESPACE] (default: default)',
      'REGISTRY_K8S_EXPIRE_PERIOD] (default: 1m)',
      'REGISTRY_K8S_PROXY_REGISTRY_URL] (default: "")',
      'REGISTRY_K8S_STORE] (default: auto)',
      'REGISTRY_K8S_LOG_LEVEL] (default: INFO)',
      'KUBECONFIG] (default:',
    ])
      expect(help.replace(/\s+/g, ' ')).toContain(s);
  });
});

describe('STORE=auto', () => {
  test.each([
    ['auto', {}, '', 'memory'],
    ['auto', { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, '', 'k8s'],
    ['auto', {}, '/tmp/kubeconfig', 'k8s'],
    ['memory', { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, '', 'memory'],
    ['K8S', {}, '', 'k8s'],
  ] as const)('%s with %j and kubeconfig "%s" → %s', (store, env, kc, want) => {
    expect(chooseStore(store, env, kc)).toBe(want);
  });
  test('an unknown store is an error', () => {
    expect(() => chooseStore('etcd', {}, '')).toThrow(/unknown store "etcd"/);
  });
});
