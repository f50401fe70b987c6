// Interface addresses over rtnetlink. "Replace" semantics (a second add of the same address is a
// no-op), IPv6 without duplicate address detection so the address is usable at once.
import { describeNetns, NetnsRef } from '../netns';
import { Cidr, parseCidr } from '../cidr';
import { Attrs, ipBytes, ipText, message, NlMessage } from './codec';
import { AF_INET, AF_INET6, AF_UNSPEC, IFA_ADDRESS, IFA_F_NODAD, IFA_FLAGS, IFA_LOCAL, NLM_F_CREATE, NLM_F_REPLACE, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from './consts';
import { errnoIs, NetlinkError } from './errors';
import { defaultNetlink, NetlinkCache } from './handles';
import { linkIndexes } from './link';
import { REQ } from './socket';

export interface AddressInfo {
  family: 4 | 6;
  ip: string;
  len: number;
  index: number;
}

export const afOf = (family: 4 | 6) => (family === 4 ? AF_INET : AF_INET6);

/** RTM_NEWADDR (replace) or RTM_DELADDR for `c` on the link with `index`. */
export function addressMessage(op: 'replace' | 'delete', index: number, c: Cidr): Buffer {
  const flags = c.family === 6 ? IFA_F_NODAD : 0;
  return message(op === 'replace' ? RTM_NEWADDR : RTM_DELADDR, op === 'replace' ? REQ | NLM_F_CREATE | NLM_F_REPLACE : REQ, (w) => {
    w.u8(afOf(c.family)).u8(c.len).u8(flags).u8(0).u32(index);
    const ip = ipBytes(c.ip, c.family);
    w.attrBytes(IFA_LOCAL, ip);
    w.attrBytes(IFA_ADDRESS, ip);
    if (op === 'replace') w.attrU32(IFA_FLAGS, flags);
  });
}

export async function replaceAddress(ns: NetnsRef, ifName: string, cidr: string, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  const c = parseCidr(cidr);
  const [index] = await linkIndexes(ns, [ifName], nl);
  await nl.route(ns).request(addressMessage('replace', index, c), `add address ${cidr} to ${ifName} in netns ${describeNetns(ns)}`);
}

/** Removes the address; one that is not there is already removed. */
export async function deleteAddress(ns: NetnsRef, ifName: string, cidr: string, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  const c = parseCidr(cidr);
  const [index] = await linkIndexes(ns, [ifName], nl);
  const [o] = await nl.route(ns).exchange([addressMessage('delete', index, c)]);
  if (o.errno && !errnoIs(o.errno, 'EADDRNOTAVAIL', 'ENOENT', 'ESRCH')) throw new NetlinkError(o.errno, `delete address ${cidr} from ${ifName} in netns ${describeNetns(ns)}`, o.extack);
}

function parseAddress(m: NlMessage): AddressInfo | undefined {
  const family = m.body.readUInt8(0) === AF_INET ? 4 : 6;
  const a = new Attrs(m.body, 8);
  const ip = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
  if (!ip) return undefined;
  return { family, ip: ipText(ip), len: m.body.readUInt8(1), index: m.body.readUInt32LE(4) };
}

/** Addresses in `ns`, optionally only those of one link. */
export async function listAddresses(ns: NetnsRef, ifName?: string, nl: NetlinkCache = defaultNetlink()): Promise<AddressInfo[]> {
  const index = ifName !== undefined ? (await linkIndexes(ns, [ifName], nl))[0] : 0;
  const msgs = await nl.route(ns).dump(RTM_GETADDR, (w) => w.u8(AF_UNSPEC).u8(0).u8(0).u8(0).u32(index), `list addresses in netns ${describeNetns(ns)}`);
  return msgs
    .filter((m) => m.type === RTM_NEWADDR)
    .map(parseAddress)
    .filter((a): a is AddressInfo => a !== undefined && (index === 0 || a.index === index));
}
