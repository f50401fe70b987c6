// Device features (offloads) over ethtool's generic-netlink family, instead of an `ethtool -K`
// process per connection. Features are addressed by the kernel's names ("tx-checksum-ipv4"); the
// groups `ethtool -K` knows ("tx", "tso", "gso") are expanded against the names this kernel has,
// read once per process (the list is the kernel's, the same for every device and namespace).
import { Code, StatusError } from '@nsm/sdk/core/errors';
import type { NetnsRef } from '../netns';
import { describeNetns } from '../netns';
import { assertIfName } from '../names';
import { Attrs, message, MessageWriter, NlMessage } from './codec';
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_GETFAMILY,
  ETH_SS_FEATURES,
  ETHTOOL_A_BITSET_BIT_NAME,
  ETHTOOL_A_BITSET_BIT_VALUE,
  ETHTOOL_A_BITSET_BITS,
  ETHTOOL_A_BITSET_BITS_BIT,
  ETHTOOL_A_FEATURES_ACTIVE,
  ETHTOOL_A_FEATURES_HEADER,
  ETHTOOL_A_FEATURES_HW,
  ETHTOOL_A_FEATURES_NOCHANGE,
  ETHTOOL_A_FEATURES_WANTED,
  ETHTOOL_A_HEADER_DEV_NAME,
  ETHTOOL_A_HEADER_FLAGS,
  ETHTOOL_A_STRING_VALUE,
  ETHTOOL_A_STRINGSET_ID,
  ETHTOOL_A_STRINGSET_STRINGS,
  ETHTOOL_A_STRINGS_STRING,
  ETHTOOL_A_STRINGSETS_STRINGSET,
  ETHTOOL_A_STRSET_HEADER,
  ETHTOOL_A_STRSET_STRINGSETS,
  ETHTOOL_FLAG_OMIT_REPLY,
  ETHTOOL_GENL_NAME,
  ETHTOOL_GENL_VERSION,
  ETHTOOL_MSG_FEATURES_GET,
  ETHTOOL_MSG_FEATURES_SET,
  ETHTOOL_MSG_STRSET_GET,
  GENL_ID_CTRL,
} from './consts';
import { isErrno } from './errors';
import { defaultNetlink, NetlinkCache } from './handles';
import { REQ } from './socket';

/** What `ethtool -K IF tx off tso off gso off` turns off; see ../ethtool.ts for why. */
export const OVS_NETDEV_OFFLOADS_OFF: readonly string[] = ['tx', 'tso', 'gso'];

/** `ethtool -K` group names → which kernel feature names they cover. */
const GROUPS: Record<string, RegExp> = {
  tx: /^tx-checksum-/,
  tso: /^tx-tcp(6|-[a-z]+)?-segmentation$/,
  gso: /^tx-generic-segmentation$/,
  gro: /^rx-gro$/,
  rx: /^rx-checksum$/,
};

function genl(family: number, cmd: number, version: number, body: (w: MessageWriter) => void): Buffer {
  return message(family, REQ, (w) => {
    w.u8(cmd).u8(version).u16(0);
    body(w);
  });
}

let familyId: number | undefined;
let featureNames: string[] | undefined;

async function ethtoolFamily(nl: NetlinkCache): Promise<number> {
  if (familyId !== undefined) return familyId;
  // Family ids are global (not per namespace), so any socket can ask.
  let m: NlMessage[];
  try {
    m = await nl.generic(undefined).request(genl(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, (w) => w.attrString(CTRL_ATTR_FAMILY_NAME, ETHTOOL_GENL_NAME)), 'resolve the ethtool netlink family');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new StatusError(Code.UNIMPLEMENTED, 'this kernel has no ethtool netlink interface (Linux 5.6+ with CONFIG_ETHTOOL_NETLINK)', { cause: e });
    throw e;
  }
  const id = m[0] ? new Attrs(m[0].body, 4).get(CTRL_ATTR_FAMILY_ID)?.readUInt16LE(0) : undefined;
  if (id === undefined) throw new StatusError(Code.INTERNAL, 'ethtool netlink family: no id in the answer');
  familyId = id;
  return id;
}

/** Every feature name this kernel knows, in bit order. */
async function kernelFeatureNames(nl: NetlinkCache): Promise<string[]> {
  if (featureNames) return featureNames;
  const fam = await ethtoolFamily(nl);
  const [m] = await nl
    .generic(undefined)
    .request(
      genl(fam, ETHTOOL_MSG_STRSET_GET, ETHTOOL_GENL_VERSION, (w) => {
        // The header is required even when, as here, no device is named (the set is global).
        w.nest(ETHTOOL_A_STRSET_HEADER, () => undefined);
        w.nest(ETHTOOL_A_STRSET_STRINGSETS, (s) => s.nest(ETHTOOL_A_STRINGSETS_STRINGSET, (x) => x.attrU32(ETHTOOL_A_STRINGSET_ID, ETH_SS_FEATURES)));
      }),
      'read the kernel feature names',
    );
  const set = m ? new Attrs(m.body, 4).nested(ETHTOOL_A_STRSET_STRINGSETS)?.nested(ETHTOOL_A_STRINGSETS_STRINGSET) : undefined;
  const strings = set?.nested(ETHTOOL_A_STRINGSET_STRINGS)?.all(ETHTOOL_A_STRINGS_STRING) ?? [];
  featureNames = strings.map((s) => new Attrs(s).string(ETHTOOL_A_STRING_VALUE) ?? '').filter(Boolean);
  if (featureNames.length === 0) throw new StatusError(Code.INTERNAL, 'ethtool netlink: the kernel listed no feature names');
  return featureNames;
}

/** Group names and/or kernel feature names → kernel feature names; unknown ones are INVALID_ARGUMENT. */
export async function expandFeatures(features: readonly string[], nl: NetlinkCache = defaultNetlink()): Promise<string[]> {
  const known = await kernelFeatureNames(nl);
  const out = new Set<string>();
  for (const f of features) {
    const group = GROUPS[f];
    if (group) known.filter((n) => group.test(n)).forEach((n) => out.add(n));
    else if (known.includes(f)) out.add(f);
    else throw new StatusError(Code.INVALID_ARGUMENT, `unknown device feature "${f}"`);
  }
  return [...out];
}

function header(w: MessageWriter, dev: string, flags: number): void {
  w.nest(ETHTOOL_A_FEATURES_HEADER, (h) => {
    h.attrString(ETHTOOL_A_HEADER_DEV_NAME, dev);
    if (flags) h.attrU32(ETHTOOL_A_HEADER_FLAGS, flags);
  });
}

/** Sets features on (true) or off (false); names as in expandFeatures(). One exchange once warmed up. */
export async function setFeatures(ns: NetnsRef, ifName: string, want: Record<string, boolean>, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  assertIfName(ifName);
  const fam = await ethtoolFamily(nl);
  const bits: [string, boolean][] = [];
  for (const [f, on] of Object.entries(want)) for (const n of await expandFeatures([f], nl)) bits.push([n, on]);
  if (bits.length === 0) return;
  const msg = genl(fam, ETHTOOL_MSG_FEATURES_SET, ETHTOOL_GENL_VERSION, (w) => {
    header(w, ifName, ETHTOOL_FLAG_OMIT_REPLY);
    // A bit list without NOMASK: the listed bits are changed, to on where VALUE is present.
    w.nest(ETHTOOL_A_FEATURES_WANTED, (ws) =>
      ws.nest(ETHTOOL_A_BITSET_BITS, (b) => {
        for (const [name, on] of bits)
          b.nest(ETHTOOL_A_BITSET_BITS_BIT, (bit) => {
            bit.attrString(ETHTOOL_A_BITSET_BIT_NAME, name);
            if (on) bit.attrFlag(ETHTOOL_A_BITSET_BIT_VALUE);
          });
      }),
    );
  });
  await nl.generic(ns).request(msg, `set features of ${ifName} in netns ${describeNetns(ns)}`);
}

export interface DeviceFeatures {
  /** In effect now. */
  active: Set<string>;
  /** Changeable by the user. */
  hw: Set<string>;
  wanted: Set<string>;
  /** Fixed by the driver. */
  nochange: Set<string>;
}

export async function getFeatures(ns: NetnsRef, ifName: string, nl: NetlinkCache = defaultNetlink()): Promise<DeviceFeatures> {
  assertIfName(ifName);
  const fam = await ethtoolFamily(nl);
  const [m] = await nl.generic(ns).request(genl(fam, ETHTOOL_MSG_FEATURES_GET, ETHTOOL_GENL_VERSION, (w) => header(w, ifName, 0)), `get features of ${ifName} in netns ${describeNetns(ns)}`);
  const a = m ? new Attrs(m.body, 4) : undefined;
  // Sets without a mask list only the bits that are set.
  const names = (type: number) =>
    new Set(
      (a?.nested(type)?.nested(ETHTOOL_A_BITSET_BITS)?.all(ETHTOOL_A_BITSET_BITS_BIT) ?? [])
        .map((b) => new Attrs(b).string(ETHTOOL_A_BITSET_BIT_NAME) ?? '')
        .filter(Boolean),
    );
  return { active: names(ETHTOOL_A_FEATURES_ACTIVE), hw: names(ETHTOOL_A_FEATURES_HW), wanted: names(ETHTOOL_A_FEATURES_WANTED), nochange: names(ETHTOOL_A_FEATURES_NOCHANGE) };
}

/** Same contract as ../ethtool.ts disableOffloads: turns the listed features/groups off; idempotent. */
export async function disableOffloads(ns: NetnsRef, ifName: string, features: readonly string[] = OVS_NETDEV_OFFLOADS_OFF, nl: NetlinkCache = defaultNetlink()): Promise<void> {
  assertIfName(ifName);
  if (features.length === 0) return;
  await setFeatures(ns, ifName, Object.fromEntries(features.map((f) => [f, false])), nl);
}
