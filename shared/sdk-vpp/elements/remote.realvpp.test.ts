// Two simulated nodes, each its own real VPP 25.02 in its own namespace, joined by a veth underlay
// (each end an af_packet uplink holding the node's tunnel IP). The client's forwarder chain runs on node
// A and hands its remote offers to node B's chain; pods ping each other both ways through both VPPs,
// tcpdump on the underlay shows what the wire carries (VXLAN on the configured port, WireGuard
// ciphertext, VLAN tags), and after Close each VPP holds what it held before and no veth is left.
// tcpdump runs on the receiving node's end: af_packet sends with qdisc bypass, which the sender's own
// packet taps do not see.
import { Connection, MechanismType, Param, Payload } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import type { NetworkServiceHandler } from '@nsm/sdk/core/networkservice';
import type { Netns } from '@nsm/sdk-kernel/netns';
import { ensureHostDeps, TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import { capture, clientConnection, endpoint, forwarderChain, kernelEndpoint, linkNames, linkNodes, ping, toNode, VppState, VppTestNode, vppState } from '../testing/realmesh';
import { describeWithVpp } from '../testing/realvpp';
import { reconcile } from './reconcile';

/** The bytes of each captured packet (tcpdump -x), as one hex string per packet. */
function packetHex(out: string): string[] {
  const packets: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s+0x[0-9a-f]+:\s+(.*)$/.exec(line);
    if (m) packets[packets.length - 1] += m[1].replace(/\s+/g, '');
    else if (line.trim()) packets.push('');
  }
  return packets;
}

describeWithVpp('remote mechanisms between two real VPPs', () => {
  const nets = new TestNetnsSet();
  let a: VppTestNode;
  let b: VppTestNode;
  let nsc: Netns;
  let nse: Netns;

  beforeAll(async () => {
    await ensureHostDeps();
    [a, b] = [await VppTestNode.start(nets, 'node-a'), await VppTestNode.start(nets, 'node-b')];
    await linkNodes(a, b);
    [nsc, nse] = [await nets.add('nsc'), await nets.add('nse')];
    // The underlay works before any connection (ARP resolved both ways).
    expect(await a.vpp.cli('ping', '10.99.0.2', 'repeat', '2')).toMatch(/received/);
  }, 600_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await nets.cleanup();
  });

  type Snap = { vpp: VppState; links: string[] };
  const snap = async (n: VppTestNode): Promise<Snap> => ({ vpp: await vppState(n.vpp.api), links: await linkNames(n.netns) });

  /** Requests through A (and B), runs `body`, closes, and checks both nodes are back where they were. */
  async function connected(h: NetworkServiceHandler, c: Connection, body: (conn: Connection) => Promise<void>, nodes = [a, b]) {
    const before = await Promise.all(nodes.map(snap));
    const conn = await h.request(Context.background(), { connection: c, mechanismPreferences: [] });
    try {
      await body(conn);
    } finally {
      await h.close(Context.background(), conn);
    }
    expect(await Promise.all(nodes.map(snap))).toEqual(before);
  }

  it('VXLAN on NSM_VXLAN_PORT 4790 (Ethernet): pings both ways, VXLAN/UDP 4790 on the wire', async () => {
    const port = 4790;
    const hb = forwarderChain(b, kernelEndpoint(nse, 'nse-1'), { vxlanPort: port });
    const hop = toNode(hb);
    const ha = forwarderChain(a, hop, { vxlanPort: port });
    await connected(ha, clientConnection('vx1', nsc, Payload.ETHERNET, ['172.16.10.101/24'], ['172.16.10.100/24'], 'nsm-1', 2), async () => {
      const conn = hop.last!;
      expect(conn.mechanism).toMatchObject({ type: MechanismType.VXLAN, parameters: { [Param.srcPort]: '4790', [Param.dstPort]: '4790', [Param.srcIp]: '10.99.0.1', [Param.dstIp]: '10.99.0.2' } });
      const vni = conn.mechanism!.parameters[Param.vni];
      expect((await vppState(a.vpp.api)).vxlanTunnels).toEqual([`10.99.0.1->10.99.0.2 vni ${vni}`]);
      // Only VXLAN frames that carry IPv4 ICMP (inner ethertype at UDP offset 28, IP protocol at 39):
      // the pods' IPv6 multicast reports of a new interface cross the tunnel too.
      const icmpInVxlan = `udp port ${port} and udp[28:2] = 0x0800 and udp[39] = 1`;
      const toB = capture(b.netns, 'up0', icmpInVxlan, 4, 10, ['-T', 'vxlan']);
      const toA = capture(a.netns, 'up0', icmpInVxlan, 4, 10, ['-T', 'vxlan']);
      await Promise.all([toB.ready, toA.ready]);
      await ping(nsc, '172.16.10.100');
      await ping(nse, '172.16.10.101');
      const [wireB, wireA] = [await toB.done, await toA.done];
      // Destination port: the configured one. Source port: VPP 25.02 hashes the inner flow into it
      // (RFC 7348 entropy); the tunnel's src_port is only the port it listens on.
      expect(wireB).toMatch(new RegExp(`10\\.99\\.0\\.1\\.\\d+ > 10\\.99\\.0\\.2\\.${port}: VXLAN, flags \\[I\\] \\(0x08\\), vni ${vni}`));
      expect(wireB).toMatch(/172\.16\.10\.101 > 172\.16\.10\.100: ICMP echo request/);
      expect(wireA).toMatch(new RegExp(`10\\.99\\.0\\.2\\.\\d+ > 10\\.99\\.0\\.1\\.${port}: VXLAN, flags \\[I\\] \\(0x08\\), vni ${vni}`));
      expect(wireA).toMatch(/172\.16\.10\.(100 > 172\.16\.10\.101: ICMP echo reply|101 > 172\.16\.10\.100: ICMP echo request)/);
    });
  });

  it('WireGuard (IP): pings both ways, only ciphertext on UDP 51820', async () => {
    const pattern = '6e736d2d74732d7767'; // "nsm-ts-wg", filled into every ping
    const hb = forwarderChain(b, kernelEndpoint(nse, 'nse-2'));
    const hop = toNode(hb);
    const ha = forwarderChain(a, hop);
    await connected(ha, clientConnection('wg1', nsc, Payload.IP, ['172.16.20.101/32', 'fd00:20::101/128'], ['172.16.20.100/32', 'fd00:20::100/128'], 'nsm-2', 2), async () => {
      expect(hop.last!.mechanism).toMatchObject({ type: MechanismType.WIREGUARD, parameters: { [Param.srcPort]: '51820', [Param.dstPort]: '51820' } });
      const peersA = await a.vpp.api.wireguardPeersDump();
      expect(peersA.map((p) => [p.endpoint, p.port, p.allowedIps])).toEqual([['10.99.0.2', 51820, ['172.16.20.100/32', 'fd00:20::100/128']]]);
      const wire = capture(b.netns, 'up0', 'udp port 51820 or icmp', 3, 8);
      const plain = capture(nse, 'nse-2', 'icmp', 2, 10);
      await Promise.all([wire.ready, plain.ready]);
      await ping(nsc, '172.16.20.100', pattern);
      const [onWire, atPod] = [await wire.done, await plain.done];
      // The endpoint's interface sees the pattern in clear; the wire between the nodes does not.
      expect(packetHex(atPod).some((p) => p.includes(pattern))).toBe(true);
      expect(onWire).toMatch(/10\.99\.0\.1\.51820 > 10\.99\.0\.2\.51820: UDP/);
      expect(onWire).not.toMatch(/ICMP/);
      expect(packetHex(onWire).filter((p) => p.includes(pattern))).toEqual([]);
      await ping(nse, '172.16.20.101');
      await ping(nsc, 'fd00:20::100');
      await ping(nse, 'fd00:20::101');
      // The handshake completed (peer flag ESTABLISHED = 2).
      expect((await a.vpp.api.wireguardPeersDump())[0].flags! & 2).toBe(2);
    });
  });

  it('WireGuard toward a peer that never answers: the Request fails within the bound, nothing is left', async () => {
    // Node B's address, but a key no interface there holds: no handshake ever completes.
    const silent = endpoint(MechanismType.WIREGUARD, { [Param.dstIp]: '10.99.0.2', [Param.dstPort]: '51820', [Param.dstPublicKey]: Buffer.alloc(32, 3).toString('base64') });
    const ha = forwarderChain(a, silent, { handshakeTimeoutMs: 1500 });
    const before = await snap(a);
    const t0 = Date.now();
    await expect(ha.request(Context.background(), { connection: clientConnection('wg-silent', nsc, Payload.IP, ['172.16.21.101/32'], ['172.16.21.100/32'], 'nsm-5', 2), mechanismPreferences: [] })).rejects.toThrow(/no WireGuard handshake with 10\.99\.0\.2:51820 within 1500 ms/);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(await snap(a)).toEqual(before);
  });

  it.each([
    ['VXLAN', Payload.ETHERNET, ['172.16.30.101/24'], ['172.16.30.100/24']],
    ['WireGuard', Payload.IP, ['172.16.31.101/32'], ['172.16.31.100/32']],
  ])('%s: after node A\'s forwarder died, reconcile removes its leftovers; the heal through a new one works both ends', async (_m, payload, src, dst) => {
    const [beforeA, beforeB] = [await snap(a), await snap(b)];
    const hb = forwarderChain(b, kernelEndpoint(nse, 'nse-6'));
    const c = clientConnection(`rc-${payload}`, nsc, payload, src, dst, 'nsm-6', 2);
    const first = await forwarderChain(a, toNode(hb)).request(Context.background(), { connection: structuredClone(c), mechanismPreferences: [] });
    await ping(nsc, dst[0].split('/')[0]);
    // Forwarder A dies: its chain and records are gone, its VPP keeps everything.
    expect(await reconcile(a.dp.api, { hostNetns: a.netns })).toEqual(expect.arrayContaining([expect.stringMatching(/^host-server-/), expect.stringMatching(/^veth server-/)]));
    expect(await snap(a)).toEqual(beforeA);
    // The client heals through a new forwarder on A: new key (WireGuard), B makes its end again.
    const hop = toNode(hb);
    const ha2 = forwarderChain(a, hop);
    const healed = await ha2.request(Context.background(), { connection: { ...structuredClone(c), mechanism: first.mechanism }, mechanismPreferences: [] });
    try {
      await ping(nsc, dst[0].split('/')[0]);
      await ping(nse, src[0].split('/')[0]);
      expect((await vppState(b.vpp.api)).interfaces.length).toBe(beforeB.vpp.interfaces.length + 2);
    } finally {
      await ha2.close(Context.background(), healed);
    }
    expect(await Promise.all([snap(a), snap(b)])).toEqual([beforeA, beforeB]);
  });

  describe('VLAN breakout on the uplink', () => {
    // Node B's VPP plays the VLAN's far end: a dot1q 100 sub-interface holding 192.168.100.2/24.
    let far: number;
    beforeAll(async () => {
      far = await b.vpp.api.createVlanSubif(b.uplink!.swIfIndex, 100);
      await b.vpp.api.interfaceAddress(far, '192.168.100.2/24', true);
      await b.vpp.api.setInterfaceState(far, true);
    });
    afterAll(async () => {
      if (far !== undefined) await b.vpp.api.deleteSubif(far).catch(() => undefined);
    });

    it.each([Payload.ETHERNET, Payload.IP])('%s payload: tagged 100 on the wire, pings both ways', async (payload) => {
      const vlanEndpoint = endpoint(MechanismType.VLAN, { [Param.vlanId]: '100' });
      const ha = forwarderChain(a, vlanEndpoint, { vlanUplinks: { default: a.uplink!.name } });
      const src = payload === Payload.IP ? '192.168.100.1/32' : '192.168.100.1/24';
      await connected(ha, clientConnection(`vl-${payload}`, nsc, payload, [src], ['192.168.100.2/32'], 'nsm-3'), async () => {
        expect(vlanEndpoint.offered.map((m) => `${m.cls}/${m.type}`)).toContain('REMOTE/VLAN');
        expect((await a.vpp.api.interfaceDump()).map((i) => i.name)).toContain('host-up0.100');
        const wire = capture(b.netns, 'up0', 'vlan 100 and icmp', 2, 10);
        await wire.ready;
        await ping(nsc, '192.168.100.2');
        expect(await wire.done).toMatch(/ethertype 802\.1Q \(0x8100\), length \d+: vlan 100, p 0, ethertype IPv4 \(0x0800\), 192\.168\.100\.1 > 192\.168\.100\.2: ICMP echo request/);
        expect(await b.vpp.cli('ping', '192.168.100.1', 'repeat', '3')).toMatch(/3 sent, [23] received/);
        // Node B is the VLAN's far end (it learns the client's MAC): only node A is the forwarder's.
      }, [a]);
    });

    it('two connections on VLAN 100 share one sub-interface and reach each other; it goes with the last', async () => {
      const nsc2 = await nets.add('nsc2');
      const vlanEndpoint = endpoint(MechanismType.VLAN, { [Param.vlanId]: '100' });
      const ha = forwarderChain(a, vlanEndpoint, { vlanUplinks: { default: a.uplink!.name } });
      const before = await snap(a);
      const c1 = await ha.request(Context.background(), { connection: clientConnection('vs-1', nsc, Payload.ETHERNET, ['192.168.100.1/24'], ['192.168.100.2/32'], 'nsm-7'), mechanismPreferences: [] });
      const c2 = await ha.request(Context.background(), { connection: clientConnection('vs-2', nsc2, Payload.ETHERNET, ['192.168.100.3/24'], ['192.168.100.2/32'], 'nsm-7'), mechanismPreferences: [] });
      let open = [c1, c2];
      try {
        const st = await vppState(a.vpp.api);
        expect(st.interfaces.filter((i) => i.endsWith('host-up0.100'))).toHaveLength(1);
        expect(st.bridgeDomains).toEqual([expect.stringMatching(/^\d+ nsm:vlan host-up0\.100 \[host-up0\.100 host-server-vs-1-nsc host-server-vs-2-nsc\]$/)]);
        await ping(nsc, '192.168.100.2');
        await ping(nsc2, '192.168.100.2');
        await ping(nsc, '192.168.100.3');
        await ha.close(Context.background(), c1);
        open = [c2];
        await ping(nsc2, '192.168.100.2');
        expect((await vppState(a.vpp.api)).bridgeDomains).toEqual([expect.stringMatching(/\[host-up0\.100 host-server-vs-2-nsc\]$/)]);
      } finally {
        for (const c of open) await ha.close(Context.background(), c);
      }
      expect(await snap(a)).toEqual(before);
    });
  });
});
