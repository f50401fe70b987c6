// Building blocks for tests of the VPP dataplane against real VPP: a simulated node (a namespace with
// its own VPP and a forwarder's API connection), an underlay joining two nodes (a veth pair, each end
// an af_packet uplink holding the node's tunnel IP), pod namespaces, the forwarder's dataplane chain
// with stand-ins for the endpoint and for the hop to another node, pings, captures on the underlay,
// and a snapshot of everything VPP holds so a test can show Close left nothing behind.
import { spawn } from 'node:child_process';
import { Connection, Mechanism, MechanismClass, MechanismType, NetworkServiceRequest, Param } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { metadata } from '@nsm/sdk/core/metadata';
import { chain, handler, NetworkServiceElement, NetworkServiceHandler } from '@nsm/sdk/core/networkservice';
import { mechanisms } from '@nsm/sdk/elements/mechanisms';
import { disableOffloads } from '@nsm/sdk-kernel/ethtool';
import { exec } from '@nsm/sdk-kernel/exec';
import { getMac, listLinks } from '@nsm/sdk-kernel/link';
import { inNetnsArgv, Netns } from '@nsm/sdk-kernel/netns';
import type { TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import { createVethPair } from '@nsm/sdk-kernel/veth';
import { IP_NEIGHBOR_FLAG_STATIC, VppApi } from '../api';
import type { VppConnection } from '../connection';
import { DEFAULT_VXLAN_PORT, kernelClient, kernelServer, linuxHostIn, memifClient, memifServer, vlanClient, VppDataplane, VppVlanUplinks, vxlanClient, vxlanServer, wireguardClient, wireguardServer, xconnect } from '../elements';
import type { HostOps } from '../elements';
import { attachUplink, Uplink } from '../uplink';
import { VppInstance } from './realvpp';

/** A simulated node: its namespace, its VPP, and the API connection a forwarder there would hold. */
export class VppTestNode {
  uplink?: Uplink;
  private constructor(
    readonly name: string,
    readonly netns: Netns,
    readonly vpp: VppInstance,
    readonly fwdConn: VppConnection,
    readonly dp: VppDataplane,
    readonly host: HostOps,
  ) {}

  static async start(nets: TestNetnsSet, name: string): Promise<VppTestNode> {
    const netns = await nets.add(name);
    const vpp = await VppInstance.start({ name, netns });
    try {
      const fwdConn = await vpp.connect(`fwd-${name}`);
      return new VppTestNode(name, netns, vpp, fwdConn, { api: new VppApi(fwdConn), tunnelIp: '' }, linuxHostIn(netns));
    } catch (err) {
      await vpp.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.fwdConn.close().catch(() => undefined);
    await this.vpp.stop();
  }
}

/** Joins two nodes by a veth pair "up0" (offloads off), each end an af_packet uplink holding <net>.1/24
 *  and <net>.2/24, which become the nodes' tunnel IPs. */
export async function linkNodes(a: VppTestNode, b: VppTestNode, net = '10.99.0'): Promise<void> {
  await createVethPair({ hostName: 'up0', hostNetns: a.netns, peerName: 'up0', peerNetns: b.netns });
  for (const [n, i] of [[a, 1], [b, 2]] as const) {
    await disableOffloads(n.netns, 'up0', ['tx', 'rx']);
    n.uplink = await attachUplink(n.vpp.api, { hostIfName: 'up0', mac: await getMac(n.netns, 'up0'), address: `${net}.${i}/24` });
    n.dp.tunnelIp = `${net}.${i}`;
  }
}

/** Everything VPP holds that a connection could leave behind, as comparable text. */
export interface VppState {
  interfaces: string[];
  tables: string[];
  routes: string[];
  staticNeighbors: string[];
  vxlanTunnels: string[];
  wireguard: string[];
  wireguardPeers: string[];
  memif: string[];
  memifSockets: string[];
  bridgeDomains: string[];
}

export async function vppState(api: VppApi): Promise<VppState> {
  const ifs = await api.interfaceDump();
  const name = (sw: number) => ifs.find((i) => i.swIfIndex === sw)?.name ?? `sw${sw}`;
  const tables = await api.ipTableDump();
  const routes: string[] = [];
  for (const t of tables) {
    for (const r of await api.ipRouteDump(t.tableId, t.ipv6)) routes.push(`${t.tableId} ${r.prefix} -> ${r.paths.map((p) => `${name(p.swIfIndex)} ${p.nextHop}`).join(', ')}`);
  }
  const neighbors = [...(await api.ipNeighborDump(false)), ...(await api.ipNeighborDump(true))];
  return {
    interfaces: ifs.map((i) => `${i.swIfIndex} ${i.name}`).sort(),
    tables: tables.map((t) => `${t.ipv6 ? 'ip6' : 'ip4'} ${t.tableId}`).sort(),
    routes: routes.sort(),
    staticNeighbors: neighbors.filter((n) => n.flags & IP_NEIGHBOR_FLAG_STATIC).map((n) => `${name(n.swIfIndex)} ${n.ip} ${n.mac}`).sort(),
    vxlanTunnels: (await api.vxlanTunnelDump()).map((t) => `${t.src}->${t.dst} vni ${t.vni}`).sort(),
    wireguard: (await api.wireguardInterfaceDump()).map((w) => `${w.swIfIndex} ${w.srcIp}:${w.port}`).sort(),
    wireguardPeers: (await api.wireguardPeersDump()).map((p) => `${p.swIfIndex} ${p.endpoint}:${p.port}`).sort(),
    memif: (await api.memifDump()).map((m) => `${m.name} role ${m.role}`).sort(),
    memifSockets: (await api.memifSocketDump()).map((s) => `${s.socketId} ${s.path}`).sort(),
    bridgeDomains: (await api.bridgeDomainDump()).map((b) => `${b.bdId} ${b.tag} [${b.swIfIndexes.map(name).join(' ')}]`).sort(),
  };
}

/** Names of the links in a namespace (to show no veth was left there). */
export const linkNames = async (ns: Netns): Promise<string[]> => (await listLinks(ns)).map((l) => l.name).sort();

/** Pings `ip` from `ns` until one round of 3 gets replies (up to 3 rounds: the first packets may meet
 *  an unresolved neighbour or a WireGuard handshake). Resolves with ping's summary line; throws if none. */
export async function ping(ns: Netns, ip: string, pattern?: string): Promise<string> {
  let last = '';
  for (let round = 0; round < 3; round++) {
    const argv = ['ping', '-c', '3', '-i', '0.2', '-W', '2', ...(pattern ? ['-p', pattern] : []), ip];
    try {
      const { stdout } = await exec(inNetnsArgv(ns, argv), { timeoutMs: 15_000 });
      return /\d+ packets transmitted.*/.exec(stdout)?.[0] ?? stdout;
    } catch (err) {
      last = String(err);
    }
  }
  throw new Error(`no reply from ${ip}: ${last}`);
}

/** tcpdump in `ns` printing link headers and packet bytes (-e -nn -x); resolves with its output when it
 *  has seen `count` packets or after `timeoutSec`. `ready` resolves once it listens. */
export function capture(ns: Netns, dev: string, filter: string, count: number, timeoutSec = 8, extra: string[] = []): { ready: Promise<void>; done: Promise<string> } {
  const [cmd, ...args] = inNetnsArgv(ns, ['timeout', String(timeoutSec), 'tcpdump', '-e', '-nn', '-x', '-l', ...extra, '-i', dev, '-c', String(count), filter]);
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (String(d).includes('listening on') ? ready() : undefined));
  const done = new Promise<string>((r) => proc.on('exit', () => (ready(), r(out))));
  return { ready: readyP, done };
}

export interface ChainOptions {
  vxlanPort?: number;
  /** WireGuard: how long the client side waits for the handshake (default the element's). */
  handshakeTimeoutMs?: number;
  memifDir?: string;
  vlanUplinks?: VppVlanUplinks;
}

/** Stands in for connect + mechanismtranslation: the client elements see their own mechanism choice,
 *  the server elements get their caller's mechanism back. */
const boundary: NetworkServiceElement = {
  async request(ctx, req, next) {
    const mine = req.connection!.mechanism;
    const out = await next.request(ctx, { connection: { ...req.connection!, mechanism: undefined }, mechanismPreferences: [] });
    return { ...out, mechanism: mine };
  },
};

/** The forwarder's dataplane as cmd-forwarder-vpp chains it (server: xconnect, mechanisms; client:
 *  memif, kernel, VXLAN, WireGuard, VLAN offers), in front of `next`. */
export function forwarderChain(node: VppTestNode, next: NetworkServiceElement, o: ChainOptions = {}): NetworkServiceHandler {
  const { dp, host } = node;
  const port = o.vxlanPort ?? DEFAULT_VXLAN_PORT;
  const servers: Record<string, NetworkServiceElement> = {
    [MechanismType.KERNEL]: kernelServer(dp, { mode: 'veth', host }),
    [MechanismType.VXLAN]: vxlanServer(dp, port),
    [MechanismType.WIREGUARD]: wireguardServer(dp),
  };
  const clients = [kernelClient(dp, { mode: 'veth', host }), vxlanClient(dp, port), wireguardClient(dp, { handshakeTimeoutMs: o.handshakeTimeoutMs })];
  if (o.memifDir) {
    servers[MechanismType.MEMIF] = memifServer(dp, { dir: o.memifDir });
    clients.unshift(memifClient(dp));
  }
  if (o.vlanUplinks) clients.push(vlanClient(dp, o.vlanUplinks));
  return handler(chain(metadata(), xconnect(dp), mechanisms(servers), boundary, ...clients, next));
}

/** The endpoint: selects the offered mechanism of `type` and fills in what an endpoint fills in. */
export function endpoint(type: string, params: Record<string, string>): NetworkServiceElement & { offered: Mechanism[] } {
  const el = {
    offered: [] as Mechanism[],
    async request(_ctx: Context, req: NetworkServiceRequest): Promise<Connection> {
      el.offered = req.mechanismPreferences;
      const m = req.mechanismPreferences.find((x) => x.type === type);
      if (!m) throw new Error(`${type} was not offered (offered: ${req.mechanismPreferences.map((x) => x.type).join(', ')})`);
      return { ...req.connection!, mechanism: Mechanism.fromPartial({ ...m, parameters: { ...m.parameters, ...params } }) };
    },
    async close(): Promise<void> {},
  };
  return el;
}

/** A kernel endpoint: interface `name` in `ns`. */
export const kernelEndpoint = (ns: Netns, name: string) => endpoint(MechanismType.KERNEL, { [Param.inodeURL]: `file://${ns.path}`, [Param.name]: name });

/** The hop to another node's forwarder: passes the REMOTE offers on (as the client's filter does toward a
 *  remote URL) under the next path segment, and hands back the mechanism the other side chose. */
export function toNode(other: NetworkServiceHandler): NetworkServiceElement & { last?: Connection } {
  const theirs = new Map<string, Connection>();
  const forOther = (c: Connection): Connection => ({ ...c, id: `${c.id}-next`, mechanism: undefined, path: c.path && { ...c.path, index: c.path.index + 1 } });
  const el: NetworkServiceElement & { last?: Connection } = {
    async request(_ctx, req) {
      const prefs = req.mechanismPreferences.filter((m) => m.cls === MechanismClass.REMOTE);
      // The other forwarder runs its own metadata: a fresh context, as across a gRPC hop.
      const out = await other.request(Context.background(), { connection: forOther(req.connection!), mechanismPreferences: prefs });
      theirs.set(req.connection!.id, out);
      el.last = out;
      return { ...req.connection!, mechanism: out.mechanism, context: out.context };
    },
    async close(_ctx, conn) {
      const c = theirs.get(conn.id);
      theirs.delete(conn.id);
      if (c) await other.close(Context.background(), c);
    },
  };
  return el;
}

/** A connection from client pod `nsc` (interface nsm-1 unless named) with the given payload and IP context. */
export function clientConnection(id: string, nsc: Netns, payload: string, src: string[], dst: string[], name = 'nsm-1', hops = 1): Connection {
  const segments = [{ id: `${id}-nsc` }, ...Array.from({ length: hops }, (_, i) => ({ id: `${id}-f${i}` })), { id: `${id}-nse` }];
  return Connection.fromPartial({
    id,
    networkService: 'ns-test',
    payload,
    mechanism: { cls: MechanismClass.LOCAL, type: MechanismType.KERNEL, parameters: { [Param.inodeURL]: `file://${nsc.path}`, [Param.name]: name } },
    path: { index: 1, pathSegments: segments },
    context: { ipContext: { srcIpAddrs: src, dstIpAddrs: dst } },
  });
}
