// Issue 4 end to end: a real mesh in namespaces; bad requests fail clearly and leave nothing
// half-made; Close and expiry leave nothing behind; IP and Ethernet payloads both carry traffic.
// The forwarder runs with NSM_DATAPATH=ovs (connections through OpenFlow rules; fastpath.test.ts
// covers the default, tc), and starts no process on Request or Close (a preloaded hook traces them).
import { Connection, Mechanism, NetworkServiceEndpoint, NetworkServiceRequest } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { Code } from '@nsm/sdk/core/errors';
import { findAll } from '@nsm/sdk/core/registry';
import { NsmConnection, rpcClose, rpcRequest } from '@nsm/sdk/grpc/clients';
import { nseRegistryClient } from '@nsm/sdk/grpc/registry';
import type { X509Source } from '@nsm/sdk/spiffe/source';
import type { TokenGenerator } from '@nsm/sdk/token';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eUnavailable, eventually, inNs, nsc, nse, root, TestMesh } from './harness';

const skip = e2eUnavailable();
const d = skip ? describe.skip : describe;
if (skip) test.skip(`kernel2kernel e2e skipped: ${skip}`, () => undefined);

jest.setTimeout(240_000);

d('Kernel2Kernel on a local mesh', () => {
  const t = new TestMesh(`k2k${process.pid % 10000}`);
  // The test acts as a workload of the mesh with an SVID of its own, like a pod would.
  let tokens: TokenGenerator;
  let source: X509Source;
  let cc: NsmConnection;
  const trace = () => join(t.paths.nodeDir('node1'), 'spawns.jsonl');
  const spawns = (): string[] => (existsSync(trace()) ? readFileSync(trace(), 'utf8').split('\n').filter(Boolean) : []);

  beforeAll(async () => {
    await t.down().catch(() => undefined);
    await t.up({
      nodes: [{ name: 'node1', forwarder: 'ovs', env: {} }],
      forwarderEnv: { NSM_DATAPATH: 'ovs', NODE_OPTIONS: `--require ${join(root, 'test/e2e/spawn-trace.js')}`, NSM_SPAWN_TRACE: trace() },
    });
    await t.pods(
      nse('nse-eth', { NSM_SERVICE_NAMES: 'icmp-responder', NSM_CIDR_PREFIX: '172.16.1.100/31' }),
      nse('nse-ip', { NSM_SERVICE_NAMES: 'icmp-responder-ip', NSM_PAYLOAD: 'IP', NSM_CIDR_PREFIX: '172.16.2.100/31' }),
      nse('nse-spare', { NSM_SERVICE_NAMES: 'icmp-spare', NSM_CIDR_PREFIX: '172.16.3.0/24' }),
      nsc('nsc-eth', { NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1' }),
    );
    ({ tokens, source } = await t.mesh.workload('e2e-client', 60_000));
    cc = new NsmConnection(`unix://${t.paths.nsmSocket('node1')}`, source);
    await eventually('nsm-1 in the client', () => inNs(t.ns('nsc-eth'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('inet 172.16.1.101/32'));
  });

  afterAll(async () => {
    cc?.close();
    await t.down();
  });

  // As a client chain sends it: the client's own segment first, which its token is stamped into.
  const request = (partial: Partial<Connection>, mech: Partial<Mechanism>) =>
    ({
      connection: Connection.fromPartial({ ...partial, path: { index: 0, pathSegments: [{ name: 'e2e-client', id: partial.id, token: '', metrics: {} }] } }),
      mechanismPreferences: [Mechanism.fromPartial(mech)],
    }) as NetworkServiceRequest;
  const kernel = (pod: string, name = 'nsm-9') => ({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: `file:///var/run/netns/${t.ns(pod)}`, name } });

  test('the client gets nsm-1 with its address and route, and ping works both ways through OVS', async () => {
    await eventually('nsm-1 in the client', () => inNs(t.ns('nsc-eth'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('inet 172.16.1.101/32'));
    expect(inNs(t.ns('nsc-eth'), ['ip', 'route', 'show', '172.16.1.100'])).toContain('dev nsm-1');
    inNs(t.ns('nsc-eth'), ['ping', '-c', '3', '-W', '2', '172.16.1.100']);
    inNs(t.ns('nse-eth'), ['ping', '-c', '3', '-W', '2', '172.16.1.101']);
    const flows = t.ovsFlows();
    expect(flows).toHaveLength(2);
    expect(flows.every((f) => /n_packets=[1-9]/.test(f))).toBe(true);
  });

  test('in steady state the forwarder starts no process on Request or Close', async () => {
    const ctx = () => Context.background().withTimeout(15_000).ctx;
    const conn = (i: number) => request({ id: `steady-${i}`, networkService: 'icmp-responder-ip' }, kernel('nsc-eth', `nsm-s${i}`));
    // Warm-up: the first connection of a kind may open sockets, not start processes.
    await rpcClose(ctx(), cc, await rpcRequest(ctx(), cc, conn(0), tokens), tokens);
    const before = spawns().length;
    for (let i = 1; i <= 3; i++) {
      const c = await rpcRequest(ctx(), cc, conn(i), tokens);
      inNs(t.ns('nsc-eth'), ['ping', '-c', '1', '-W', '2', c.context!.ipContext!.dstIpAddrs[0].split('/')[0]]);
      await rpcClose(ctx(), cc, c, tokens);
    }
    expect(spawns().slice(before)).toEqual([]);
    expect(spawns().length).toBeGreaterThan(0); // the hook is in place: start-up was traced
  });

  test('IP payload works as well, and Close removes veths, ports and flows', async () => {
    await t.pods(nsc('nsc-ip', { NSM_NETWORK_SERVICES: 'kernel://icmp-responder-ip/nsm-1' }));
    await eventually('nsm-1 in the IP client', () => inNs(t.ns('nsc-ip'), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('172.16.2.101'));
    inNs(t.ns('nsc-ip'), ['ping', '-c', '3', '-W', '2', '172.16.2.100']);
    inNs(t.ns('nse-ip'), ['ping', '-c', '3', '-W', '2', '172.16.2.101']);
    expect(t.ovsFlows()).toHaveLength(4);
    await t.mesh.deletePod('nsc-ip');
    await eventually('the IP connection gone from OVS', () => t.ovsFlows().length === 2);
    // deletePod waits for the client's Close, which removes rules, ports and veths before it returns.
    expect(t.links('nse-ip')).toEqual([]);
    expect(t.ovsPorts()).toHaveLength(2);
  });

  describe('bad requests fail clearly, leave nothing half-made, and the existing connection keeps working', () => {
    const cases: [string, () => NetworkServiceRequest, Code, RegExp][] = [
      ['unknown network service', () => request({ id: 'bad-1', networkService: 'no-such-service' }, kernel('nsc-eth')), Code.NOT_FOUND, /network service "no-such-service" is not found/],
      ['unknown mechanism', () => request({ id: 'bad-2', networkService: 'icmp-spare' }, { cls: 'LOCAL', type: 'CARRIER_PIGEON' }), Code.INVALID_ARGUMENT, /cannot support any of the requested mechanisms.*CARRIER_PIGEON/],
      ['a netns that does not exist', () => request({ id: 'bad-3', networkService: 'icmp-spare' }, { ...kernel('nsc-eth'), parameters: { inodeURL: 'file:///var/run/netns/does-not-exist', name: 'nsm-9' } }), Code.PERMISSION_DENIED, /"file:\/\/\/var\/run\/netns\/does-not-exist" is not the sender's own network namespace/],
      ['a namespace as a /proc path (a pid of another PID namespace)', () => request({ id: 'bad-5', networkService: 'icmp-spare' }, { ...kernel('nsc-eth'), parameters: { inodeURL: 'file:///proc/1/ns/net', name: 'nsm-9' } }), Code.INVALID_ARGUMENT, /send the namespace as inode:\/\/<dev>\/<ino>/],
      ['an interface name already taken in the pod', () => request({ id: 'bad-4', networkService: 'icmp-spare' }, kernel('nsc-eth', 'nsm-1')), Code.ALREADY_EXISTS, /nsm-1 already exists/],
    ];
    test.each(cases)('%s', async (_n, req, code, message) => {
      const before = { flows: t.ovsFlows().length, ports: t.ovsPorts().length, nse: t.links('nse-spare').length };
      const err = await rpcRequest(Context.background().withTimeout(15_000).ctx, cc, req(), tokens).then(() => undefined, (e) => e);
      expect(err).toBeDefined();
      expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.stringMatching(message) });
      await eventually('no half-made state', () => t.ovsFlows().length === before.flows && t.ovsPorts().length === before.ports && t.links('nse-spare').length === before.nse);
      inNs(t.ns('nsc-eth'), ['ping', '-c', '1', '-W', '2', '172.16.1.100']);
    });
  });

  test('a client killed with SIGKILL leaves nothing once its token expires', async () => {
    await t.pods(nsc('nsc-short', { NSM_NETWORK_SERVICES: 'kernel://icmp-responder-ip/nsm-1', NSM_MAX_TOKEN_LIFETIME: '4s' }));
    await eventually('the short-lived connection', () => t.ovsFlows().length === 4);
    await t.mesh.deletePod('nsc-short', { force: true });
    // Nobody refreshes any more: the nsmgr's lease ends, it closes through the forwarder to the NSE.
    // Rules go first, then the veths and ports: wait for all of it.
    await eventually('expiry to clean the dataplane', () => t.ovsFlows().length === 2 && t.links('nse-ip').length === 0 && t.ovsPorts().length === 2, 45_000).catch((e) => {
      throw new Error(`${JSON.stringify({ flows: t.ovsFlows(), links: t.links('nse-ip'), ports: t.ovsPorts() })}\n${(e as Error).message}`);
    });
  });

  test('deleting the endpoints removes their registrations, and closing everything leaves no trace', async () => {
    await t.mesh.deletePod('nsc-eth');
    await t.mesh.deletePod('nse-eth');
    await t.mesh.deletePod('nse-ip');
    await t.mesh.deletePod('nse-spare');
    const reg = nseRegistryClient(t.mesh.registryUrl.replace('tcp://10.233.0.1:5002', `unix://${t.paths.root}/registry.sock`), source);
    try {
      const left = await eventually('endpoint registrations to go', async () => {
        const all = await findAll(reg, Context.background().withTimeout(5000).ctx, NetworkServiceEndpoint.fromPartial({}));
        const endpoints = all.filter((r) => !r.item.networkServiceNames.includes('forwarder'));
        return endpoints.length === 0 ? endpoints : undefined;
      });
      expect(left).toEqual([]);
    } finally {
      reg.close();
    }
    expect(await eventually('nothing left on the node', () => (t.nsmLeftovers().length === 0 ? [] : undefined), 30_000)).toEqual([]);
  });
});
