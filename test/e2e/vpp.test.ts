// forwarder-vpp started the way its image runs it (NSM_VPP_API_SOCKET empty: it starts VPP itself,
// from the runtime's binary here), on a local mesh: VPP is the forwarder's child, Kernel2Kernel works,
// killing the forwarder takes its VPP with it and the client heals through the next pair, and Close
// leaves VPP holding nothing of the connection (checked over VPP's binary API, by tag and table).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VppApi, VppConnection } from '@nsm/sdk-vpp';
import { NSM_TAG_PREFIX, XCONNECT_TABLE_BASE } from '@nsm/sdk-vpp/elements';
import { vppRuntimeDir, vppRuntimeMissing } from '@nsm/sdk-vpp/runtime';
import { e2eUnavailable, eventually, inNs, nsc, nse, TestMesh } from './harness';

const skip = e2eUnavailable() ?? vppRuntimeMissing(vppRuntimeDir(resolve(__dirname, '../..')));
const d = skip ? describe.skip : describe;
if (skip) test.skip(`forwarder-vpp e2e skipped: ${skip}`, () => undefined);

jest.setTimeout(240_000);

const parentOf = (pid: number) => Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

d('forwarder-vpp starting VPP itself', () => {
  const t = new TestMesh(`vpe${process.pid % 10000}`);
  const apiSocket = () => join(t.paths.nodeDir('node1'), 'vpp', 'api.sock');
  const forwarderPid = () => t.mesh.status().processes.find((p) => p.name === 'forwarder-node1')?.pid;

  /** What VPP holds of NSM connections: tagged interfaces and cross-connect tables. */
  async function nsmInVpp(): Promise<string[]> {
    const c = await VppConnection.connect(apiSocket(), { timeoutMs: 5000 });
    try {
      const api = new VppApi(c);
      const ifs = (await api.interfaceDump()).filter((i) => i.tag.startsWith(NSM_TAG_PREFIX)).map((i) => `interface ${i.name}`);
      const tables = (await api.ipTableDump()).filter((x) => x.tableId >= XCONNECT_TABLE_BASE).map((x) => `table ${x.tableId}`);
      return [...ifs, ...tables];
    } finally {
      await c.close();
    }
  }

  beforeAll(async () => {
    await t.down().catch(() => undefined);
    await t.up({ nodes: [{ name: 'node1', forwarder: 'vpp', vppInForwarder: true, env: {} }] });
    await t.pods(nse('nse', { NSM_SERVICE_NAMES: 'icmp-responder-ip', NSM_PAYLOAD: 'IP', NSM_CIDR_PREFIX: '172.16.1.100/31' }), nsc('nsc', { NSM_NETWORK_SERVICES: 'kernel://icmp-responder-ip/nsm-1' }));
  });

  afterAll(async () => {
    await t.down();
  });

  test('VPP runs as the forwarder\'s child, and the client reaches the endpoint through it', async () => {
    expect(t.mesh.status().processes.map((p) => p.name)).not.toContain('vpp-node1');
    const log = readFileSync(join(t.paths.logs, 'forwarder-node1.log'), 'utf8');
    expect(log).toContain('"msg":"VPP started"');
    const vpp = JSON.parse(log.split('\n').find((l) => l.includes('"msg":"VPP started"'))!) as { pid: number };
    // `ip netns exec` runs the forwarder itself (it execs), so VPP's parent is the forwarder.
    expect(parentOf(vpp.pid)).toBe(forwarderPid());
    await eventually('a ping through the vWire', () => inNs(t.ns('nsc'), ['ping', '-c', '1', '-W', '1', '172.16.1.100'], { allowFail: true }).includes('1 received'));
    inNs(t.ns('nse'), ['ping', '-c', '2', '-W', '2', '172.16.1.101']);
    expect((await nsmInVpp()).filter((x) => x.startsWith('interface'))).toHaveLength(2);
  });

  test('killing the forwarder takes its VPP with it; the client heals through the new pair', async () => {
    const log0 = readFileSync(join(t.paths.logs, 'forwarder-node1.log'), 'utf8');
    const firstVpp = (JSON.parse(log0.split('\n').find((l) => l.includes('"msg":"VPP started"'))!) as { pid: number }).pid;
    const before = forwarderPid();
    t.mesh.supervisor.signal('forwarder-node1', 'SIGKILL');
    await eventually('the old VPP gone', () => {
      try {
        return readFileSync(`/proc/${firstVpp}/status`, 'utf8').includes('State:\tZ');
      } catch {
        return true;
      }
    });
    await eventually('a new forwarder', () => forwarderPid() !== undefined && forwarderPid() !== before);
    await eventually('a ping through the healed vWire', () => inNs(t.ns('nsc'), ['ping', '-c', '1', '-W', '1', '172.16.1.100'], { allowFail: true }).includes('1 received'), 60_000);
    const log1 = readFileSync(join(t.paths.logs, 'forwarder-node1.log'), 'utf8').split('\n').filter((l) => l.includes('"msg":"VPP started"'));
    expect(log1).toHaveLength(2);
  });

  test('Close leaves VPP holding nothing of the connection, and no veth on the node', async () => {
    await t.mesh.deletePod('nsc');
    await eventually('VPP clean', async () => (await nsmInVpp()).length === 0);
    expect(t.links('node1').filter((l) => /^(server|client)-/.test(l))).toEqual([]);
  });
});
