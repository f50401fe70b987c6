// applyIpContext of ../ipcontext.ts (same contract) over netlink: one exchange to find the link,
// one batch for MTU/up, addresses, routes and neighbours. Replace semantics throughout, so applying
// the same context again (refresh, restarted forwarder) changes nothing. Resolves with the link's
// index, for callers that go on with it (a neighbour flush) without looking it up again.
import type { IpContextSpec } from '../ipcontext';
import { describeNetns, NetnsRef } from '../netns';
import { parseCidr } from '../cidr';
import { addressMessage } from './addr';
import { NetlinkError } from './errors';
import { defaultNetlink, NetlinkCache } from './handles';
import { assertMtu, linkIndexes } from './link';
import { message } from './codec';
import { AF_UNSPEC, IFF_UP, IFLA_MTU, RTM_NEWLINK } from './consts';
import { neighborMessage } from './neigh';
import { routeMessagesVia } from './route';
import { REQ } from './socket';
import { writeSysctl } from './sysctl';

export async function applyIpContext(ns: NetnsRef, ifName: string, spec: IpContextSpec, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  await applyIpContextIndex(ns, ifName, spec, nl);
}

/** applyIpContext, resolving with the link's index; `index`, when the caller knows it (a device it just made), saves looking it up. */
export async function applyIpContextIndex(ns: NetnsRef, ifName: string, spec: IpContextSpec, nl: NetlinkCache = defaultNetlink(), known?: number): Promise<number> {
  // Everything is validated before anything is sent.
  const addrs = (spec.addrs ?? []).map(parseCidr);
  if (spec.mtu) assertMtu(spec.mtu);
  const up = spec.up ?? true;
  const index = known ?? (await linkIndexes(ns, [ifName], nl))[0];
  const routes = routeMessagesVia('replace', index, (spec.routes ?? []).map((r) => ({ dst: r.prefix, ...(r.via ? { via: r.via } : {}) })));
  const neighbors = (spec.neighbors ?? []).map((n) => neighborMessage({ dev: ifName, ip: n.ip, mac: n.mac.toLowerCase(), state: n.state }, index));
  // IPv6 may be off for the device (a host-wide default); an address would then fail.
  if (addrs.some((a) => a.family === 6)) await writeSysctl(ns, ['ipv6', 'conf', ifName, 'disable_ipv6'], '0').catch(() => undefined);

  const msgs: Buffer[] = [];
  const what: string[] = [];
  if (spec.mtu || up) {
    // Up before routes: the kernel refuses routes through a link that is down.
    msgs.push(
      message(RTM_NEWLINK, REQ, (w) => {
        w.u8(AF_UNSPEC).u8(0).u16(0).i32(index).u32(up ? IFF_UP : 0).u32(up ? IFF_UP : 0);
        if (spec.mtu) w.attrU32(IFLA_MTU, spec.mtu);
      }),
    );
    what.push(`set ${ifName}${spec.mtu ? ` mtu ${spec.mtu}` : ''}${up ? ' up' : ''}`);
  }
  addrs.forEach((a, i) => (msgs.push(addressMessage('replace', index, a)), what.push(`address ${spec.addrs![i]}`)));
  routes.forEach((m, i) => (msgs.push(m), what.push(`route ${spec.routes![i].prefix}${spec.routes![i].via ? ` via ${spec.routes![i].via}` : ''}`)));
  neighbors.forEach((m, i) => (msgs.push(m), what.push(`neighbour ${spec.neighbors![i].ip}`)));
  const outcomes = await nl.route(ns).exchange(msgs);
  const failed = outcomes.findIndex((o) => o.errno);
  if (failed >= 0) {
    const o = outcomes[failed];
    throw new NetlinkError(o.errno, `${what[failed]} on ${ifName} in netns ${describeNetns(ns)}`, o.extack);
  }
  return index;
}
