// The endpoint's VLAN switch on real OVS (root). Two namespaces joined by one veth, each end a trunk
// of its own VlanTrunk: per-VLAN interfaces on both sides reach each other, the veth carries
// 802.1Q tags with those ids (tcpdump), a trunk deleted and made again is taken up
// again, and stop() leaves no daemon behind. The trunkendpoint element is driven through it too.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, Mechanism, MechanismType, Param } from '@nsm/api';
import { metadata } from '@nsm/sdk/core/metadata';
import { chain, handler } from '@nsm/sdk/core/networkservice';
import { point2pointIpam } from '@nsm/sdk/elements/ipam/point2point';
import { kernelMechanismServer } from '@nsm/sdk/elements/kernel';
import { vlanAllocatorServer } from '@nsm/sdk/elements/kernel/vlan';
import { bg, conn, req } from '@nsm/sdk/testing/elements';
import { exec } from '@nsm/sdk-kernel/exec';
import { applyIpContext } from '@nsm/sdk-kernel/ipcontext';
import { getLink } from '@nsm/sdk-kernel/link';
import { inNetnsArgv, Netns } from '@nsm/sdk-kernel/netns';
import { captureInNetns, ensureHostDeps, isRoot, TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import { createVethPair, deleteVethPair } from '@nsm/sdk-kernel/veth';
import { vlanTrunkEndpoint } from './elements/trunkendpoint';
import { VlanTrunk } from './trunk';

const describeHost = isRoot() ? describe : describe.skip;

const ping = (ns: Netns, ip: string, count = 1) => exec(inNetnsArgv(ns, ['ping', '-c', String(count), '-i', '0.2', '-W', '1', ip]), { timeoutMs: 15_000 });

/** Retries until `f` succeeds (ARP and OVS learning need a moment), failing with the last error. */
async function eventually(f: () => Promise<unknown>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await f();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describeHost('VLAN trunk switch of an endpoint', () => {
  const nets = new TestNetnsSet();
  const tmp = mkdtempSync('/tmp/nsmtrk-');
  let nse: Netns;
  let peer: Netns;
  let nseSw: VlanTrunk;
  let peerSw: VlanTrunk;

  beforeAll(async () => {
    await ensureHostDeps();
    [nse, peer] = [await nets.add('tnse'), await nets.add('tpeer')];
    nseSw = await VlanTrunk.start({ runDir: join(tmp, 'a'), trunk: 'trk0', netns: nse });
    peerSw = await VlanTrunk.start({ runDir: join(tmp, 'b'), trunk: 'trk1', netns: peer });
    // The trunk appears after the switches started, as the forwarder's veth does.
    await createVethPair({ hostName: 'trk1', hostNetns: peer, peerName: 'trk0', peerNetns: nse });
    for (const [sw, ns, vlan, addr] of [[nseSw, nse, 5, '10.77.5.1/24'], [nseSw, nse, 6, '10.77.6.1/24'], [peerSw, peer, 5, '10.77.5.2/24'], [peerSw, peer, 6, '10.77.6.2/24']] as const) {
      await applyIpContext(ns, await sw.addVlan(vlan), { addrs: [addr], up: true });
    }
  }, 300_000);

  afterAll(async () => {
    await nseSw?.stop().catch(() => undefined);
    await peerSw?.stop().catch(() => undefined);
    await nets.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('per-VLAN interfaces reach their peers, and the trunk carries the VLAN ids', async () => {
    expect(nseSw.subIfName(5)).toBe('trk0.5');
    expect(await getLink(nse, 'trk0.5')).toBeDefined();
    await eventually(() => ping(peer, '10.77.5.1'));
    await eventually(() => ping(peer, '10.77.6.1'));
    const cap = captureInNetns(nse, 'trk0', 'vlan and icmp', 4);
    await new Promise((r) => setTimeout(r, 1000));
    await ping(peer, '10.77.5.1', 2);
    const out = await cap.done;
    expect(out).toMatch(/802\.1Q.*vlan 5,.*10\.77\.5\.2 > 10\.77\.5\.1: ICMP echo request/);
    expect(out).toMatch(/802\.1Q.*vlan 5,.*10\.77\.5\.1 > 10\.77\.5\.2: ICMP echo reply/);
  }, 60_000);

  test('a trunk deleted and made again is taken up again', async () => {
    await deleteVethPair(peer, 'trk1');
    await createVethPair({ hostName: 'trk1', hostNetns: peer, peerName: 'trk0', peerNetns: nse });
    await eventually(() => ping(peer, '10.77.5.1'));
  }, 60_000);

  test('the trunk endpoint element: VLAN per connection, addresses on <trunk>.<vlan>, removed on Close', async () => {
    const h = handler(chain(metadata(), point2pointIpam(['10.88.0.0/24']), vlanAllocatorServer(), kernelMechanismServer({ interfaceName: 'trk0' }), vlanTrunkEndpoint(nseSw)));
    const kernel = Mechanism.fromPartial({ cls: 'LOCAL', type: MechanismType.KERNEL, parameters: { [Param.supportsVlan]: 'true' } });
    const a: Connection = await h.request(bg(), req(conn({ id: 'a', mechanism: kernel })));
    expect(a.mechanism!.parameters).toMatchObject({ [Param.vlan]: '1', [Param.name]: 'trk0' });
    const addrs = await exec(inNetnsArgv(nse, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'trk0.1']));
    expect(addrs.stdout).toContain('10.88.0.0/32');
    // A refresh changes nothing; Close removes the interface.
    await h.request(bg(), req(a));
    expect(await getLink(nse, 'trk0.1')).toBeDefined();
    await h.close(bg(), a);
    expect(await getLink(nse, 'trk0.1')).toBeUndefined();
    // Without supportsVlan the endpoint refuses clearly instead of handing out its trunk name.
    const plain = Mechanism.fromPartial({ cls: 'LOCAL', type: MechanismType.KERNEL, parameters: {} });
    await expect(h.request(bg(), req(conn({ id: 'b', mechanism: plain })))).rejects.toThrow(/supportsVlan=true/);
    expect(await getLink(nse, 'trk0.1')).toBeUndefined();
  }, 60_000);

  test('stop removes the switch and its daemons', async () => {
    // One switch per namespace (the netdev datapath's devices are named per namespace).
    const own = await nets.add('tstop');
    const runDir = join(tmp, 'c');
    const sw = await VlanTrunk.start({ runDir, trunk: 'trk9', netns: own });
    try {
      await sw.addVlan(9);
      expect(await getLink(own, 'trk9.9')).toBeDefined();
    } finally {
      await sw.stop();
    }
    expect(await getLink(own, 'trk9.9')).toBeUndefined();
    const ps = await exec(['pgrep', '-f', runDir]).catch(() => ({ stdout: '' }));
    expect(ps.stdout.trim()).toBe('');
  }, 60_000);
});
