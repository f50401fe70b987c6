// Single-link queries and changes. Deletion is idempotent: a link that is not there is already deleted.
import { existsSync } from 'node:fs';
import { invalidArgument, notFound } from '@nsm/sdk/core/errors';
import { exec, ExecError } from './exec';
import { ip, ipBatch, IpBatchError } from './ipbatch';
import { assertIfName } from './names';
import { describeNetns, ipArgv, NetnsRef } from './netns';

export interface LinkInfo {
  name: string;
  index: number;
  mac: string;
  mtu: number;
  /** Administratively up. */
  up: boolean;
  /** `veth`, `vxlan`, `tun`, ... (undefined for plain devices such as lo). */
  kind?: string;
  alias?: string;
  /** For a veth whose peer is in another namespace: the peer's ifindex there. */
  peerIndex?: number;
  /** For a veth whose peer is in the same namespace: the peer's name. */
  peerName?: string;
}

const NO_DEVICE = /Cannot find device|does not exist/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

interface IpJsonLink {
  ifname: string;
  ifindex: number;
  address?: string;
  mtu: number;
  flags?: string[];
  ifalias?: string;
  link?: string;
  link_index?: number;
  linkinfo?: { info_kind?: string };
}

function toLinkInfo(j: IpJsonLink): LinkInfo {
  const info: LinkInfo = { name: j.ifname, index: j.ifindex, mac: j.address ?? '', mtu: j.mtu, up: (j.flags ?? []).includes('UP') };
  if (j.linkinfo?.info_kind) info.kind = j.linkinfo.info_kind;
  if (j.ifalias) info.alias = j.ifalias;
  if (j.link_index !== undefined) info.peerIndex = j.link_index;
  if (j.link) info.peerName = j.link;
  return info;
}

export async function listLinks(ns: NetnsRef): Promise<LinkInfo[]> {
  const { stdout } = await exec(ipArgv(ns, '-d', '-j', 'link', 'show'));
  return (JSON.parse(stdout || '[]') as IpJsonLink[]).map(toLinkInfo);
}

/** The link, or undefined when there is none with that name. */
export async function getLink(ns: NetnsRef, name: string): Promise<LinkInfo | undefined> {
  assertIfName(name);
  try {
    const { stdout } = await exec(ipArgv(ns, '-d', '-j', 'link', 'show', 'dev', name));
    const links = JSON.parse(stdout || '[]') as IpJsonLink[];
    return links.length ? toLinkInfo(links[0]) : undefined;
  } catch (e) {
    if (e instanceof ExecError && NO_DEVICE.test(e.stderr)) return undefined;
    throw e;
  }
}

export async function linkExists(ns: NetnsRef, name: string): Promise<boolean> {
  return (await getLink(ns, name)) !== undefined;
}

export async function getMac(ns: NetnsRef, name: string): Promise<string> {
  const link = await getLink(ns, name);
  if (!link) throw notFound(`interface ${name} not found in netns ${describeNetns(ns)}`);
  return link.mac;
}

/** veth devices accept a new address while up, so no down/up cycle is needed. */
export async function setMac(ns: NetnsRef, name: string, mac: string): Promise<void> {
  assertIfName(name);
  if (!MAC_RE.test(mac)) throw invalidArgument(`invalid MAC address "${mac}"`);
  await ip(ns, `link set dev ${name} address ${mac.toLowerCase()}`);
}

export async function setLinkUp(ns: NetnsRef, name: string, up = true): Promise<void> {
  assertIfName(name);
  await ip(ns, `link set dev ${name} ${up ? 'up' : 'down'}`);
}

/** Deletes the link (for a veth, both ends). Missing link, or a namespace that has gone, is success. */
export async function deleteLink(ns: NetnsRef, name: string): Promise<void> {
  await deleteLinks(ns, [name]);
}

/** Deletes several links with one process; the ones already gone are skipped. */
export async function deleteLinks(ns: NetnsRef, names: readonly string[]): Promise<void> {
  names.forEach(assertIfName);
  if (names.length === 0) return;
  // A namespace file that has gone took its links with it.
  if (ns && !existsSync(ns.path)) return;
  try {
    await ipBatch(
      ns,
      names.map((n) => `link del dev ${n}`),
      { force: true },
    );
  } catch (e) {
    if (e instanceof IpBatchError && e.onlyFailuresMatching(NO_DEVICE)) return;
    throw e;
  }
}
