// The forwarder's check of an endpoint's answer against the namespace of the process that serves the
// endpoint's socket: a real listener in a namespace of its own, answers naming it or another one.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Mechanism, MechanismType } from '@nsm/api';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { chain, handler, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { clientUrlKey } from '@nsm/sdk/elements/clienturl';
import { bg, conn, req } from '@nsm/sdk/testing/elements';
import { endpointNetns } from './endpointnetns';
import { inodeUrlOf } from './nsinode';
import { isRoot, TestNetnsSet } from './testhost';
import type { Netns } from './netns';

const describeHost = isRoot() ? describe : describe.skip;

describeHost('endpointNetns: an endpoint may only name its own namespace', () => {
  const nets = new TestNetnsSet();
  const dir = mkdtempSync(join(tmpdir(), 'nsm-epns-'));
  const socket = join(dir, 'nse.sock');
  let nseNs: Netns;
  let otherNs: Netns;
  let listener: ChildProcess | undefined;

  beforeAll(async () => {
    nseNs = await nets.add('nse');
    otherNs = await nets.add('other');
    // The "endpoint": a process in its namespace that listens on the socket.
    listener = spawn('ip', ['netns', 'exec', nseNs.name!, process.execPath, '-e', `require('net').createServer((s) => s.destroy()).listen(${JSON.stringify(socket)})`], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
  });

  afterAll(async () => {
    listener?.kill('SIGKILL');
    await nets.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A next hop that answers KERNEL with `inodeURL`, and counts the Closes it gets. */
  const answering = (inodeURL: string) => {
    const closes: Connection[] = [];
    const el: NetworkServiceElement = {
      async request(_ctx, r) {
        return { ...r.connection!, mechanism: Mechanism.fromPartial({ cls: 'LOCAL', type: MechanismType.KERNEL, parameters: { inodeURL, name: 'nsm-1' } }) };
      },
      async close(_ctx, c) {
        closes.push(c);
      },
    };
    return { el, closes };
  };
  const ask = async (url: string, inodeURL: string) => {
    const next = answering(inodeURL);
    const h = handler(chain(endpointNetns(), next.el));
    const r = await h.request(bg().with(clientUrlKey, url), req(conn({ id: 'c1' }))).then(
      () => ({ code: Code.OK, message: '' }),
      (e) => ({ code: StatusError.from(e).code, message: StatusError.from(e).message }),
    );
    return { ...r, closes: next.closes.length };
  };

  it('passes an answer naming the namespace of the process serving the socket, in either form', async () => {
    expect(await ask(`unix://${socket}`, inodeUrlOf(nseNs.path))).toEqual({ code: Code.OK, message: '', closes: 0 });
    expect(await ask(`unix://${socket}`, `file://${nseNs.path}`)).toEqual({ code: Code.OK, message: '', closes: 0 });
  });

  it('refuses an answer naming another namespace, and closes the endpoint\'s side again', async () => {
    for (const answer of [inodeUrlOf(otherNs.path), inodeUrlOf('/proc/self/ns/net'), `file://${otherNs.path}`]) {
      const r = await ask(`unix://${socket}`, answer);
      expect(r).toMatchObject({ code: Code.PERMISSION_DENIED, closes: 1 });
      expect(r.message).toMatch(/is not the namespace of the process serving .*an endpoint may only name its own namespace/);
    }
  });

  it('probes a socket once while it stays the same; a socket made anew by another process is probed again', async () => {
    const path = join(dir, 'again.sock');
    const serve = (ns: Netns) => {
      const p = spawn('ip', ['netns', 'exec', ns.name!, process.execPath, '-e', `require('net').createServer((s) => (process.stdout.write('c'), s.destroy())).listen(${JSON.stringify(path)})`], { stdio: ['ignore', 'pipe', 'ignore'] });
      const seen = { probes: 0 };
      p.stdout!.on('data', (d: Buffer) => (seen.probes += d.length));
      return { p, seen };
    };
    const first = serve(nseNs);
    try {
      for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 5; i++) expect((await ask(`unix://${path}`, inodeUrlOf(nseNs.path))).code).toBe(Code.OK);
      await new Promise((r) => setTimeout(r, 100));
      expect(first.seen.probes).toBe(1);
    } finally {
      first.p.kill('SIGKILL');
    }
    rmSync(path, { force: true });
    const second = serve(otherNs);
    try {
      for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await ask(`unix://${path}`, inodeUrlOf(nseNs.path))).toMatchObject({ code: Code.PERMISSION_DENIED, closes: 1 });
      expect((await ask(`unix://${path}`, inodeUrlOf(otherNs.path))).code).toBe(Code.OK);
    } finally {
      second.p.kill('SIGKILL');
    }
  });

  it('refuses a local namespace from a next hop over TCP', async () => {
    const r = await ask('tcp://10.0.0.1:5001', inodeUrlOf(nseNs.path));
    expect(r).toMatchObject({ code: Code.PERMISSION_DENIED, closes: 1 });
    expect(r.message).toMatch(/a next hop on another node .* may not name a local namespace/);
  });
});
