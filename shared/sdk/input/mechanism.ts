// The typed parameter schema of every mechanism type (api.md §4.3-4.4, dataplane.md §2): which keys a
// type knows and what form each value takes. A known key with a malformed value is refused, whichever
// side sent it; a key the type does not know (a newer peer's, an SR-IOV one, any key of a type we do
// not implement) passes if its key and value are plain bounded text. An empty value counts as absent,
// as upstream's getters read it; the elements that need a key check that it is there.
import { Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { invalidArgument } from '../core/errors';
import {
  isBase64,
  isDecimal,
  isFileUrl,
  isGoBool,
  isIfName,
  isIpLiteral,
  isPciAddress,
  isPlainAbsolutePath,
  isPort,
  isToken,
  isWireguardKey,
} from './formats';
import { Limits } from './limits';
import { byteLength, checkBytes, checkFormat, checkText, entries, keyPath, list, malformed, requireString } from './text';

/** One parameter's form: a predicate and how the refusal names what was expected. */
export interface ParamKind {
  ok(value: string): boolean;
  what: string;
}

const kind = (what: string, ok: (v: string) => boolean): ParamKind => ({ what, ok });

export const P = {
  ip: kind('an IP address', isIpLiteral),
  port: kind('a UDP port (1-65535)', isPort),
  vni: kind('a VXLAN VNI (0-16777215, 0 = unset)', (v) => isDecimal(v, 0, 0xffffff)),
  mtu: kind('an MTU (68-65535, or 0 = unset)', (v) => v === '0' || isDecimal(v, 68, 65535)),
  bool: kind('a boolean (true/false)', isGoBool),
  ifName: kind("an interface name (1-15 bytes, not . or .., no '/', ':', whitespace or control characters)", isIfName),
  netnsUrl: kind(`a namespace URL (file:///path or inode://dev/ino, at most ${Limits.urlBytes} bytes)`, (v) => isFileUrl(v, Limits.urlBytes)),
  kernelVlan: kind('a VLAN id (0-4094, 0 = none)', (v) => isDecimal(v, 0, 4094)),
  vlanId: kind('a VLAN id (1-4094)', (v) => isDecimal(v, 1, 4094)),
  wgKey: kind('a WireGuard key (base64 of 32 bytes)', isWireguardKey),
  certificate: kind(`a base64 certificate (at most ${Limits.certificateParameterBytes} bytes)`, (v) => isBase64(v, Limits.certificateParameterBytes)),
  pci: kind('a PCI address (dddd:bb:dd.f)', isPciAddress),
  token: kind('an identifier (letters, digits, . _ : -; at most 128 bytes)', (v) => isToken(v)),
  uint32: kind('a decimal number (0-4294967295)', (v) => isDecimal(v, 0, 0xffffffff)),
  uint64: kind('a decimal number', (v) => /^\d{1,20}$/.test(v)),
  /** A cgroup directory relative to the host's cgroup root. */
  cgroupDir: kind('a relative directory path', (v) => isPlainAbsolutePath(`/${v.replace(/\/$/, '')}`)),
} as const;

/** The keys of the IP tunnels: addresses, ports, MTU, and public keys for the encrypted ones. */
const tunnel = (pubKey?: ParamKind): Record<string, ParamKind> => ({
  [Param.srcIp]: P.ip,
  [Param.dstIp]: P.ip,
  [Param.srcPort]: P.port,
  [Param.dstPort]: P.port,
  [Param.origSrcIp]: P.ip,
  [Param.origDstIp]: P.ip,
  [Param.mtu]: P.mtu,
  ...(pubKey ? { [Param.srcPublicKey]: pubKey, [Param.dstPublicKey]: pubKey } : {}),
});

/** Known keys per mechanism type. NOOP and SRV6 have none we interpret. */
export const MECHANISM_SCHEMAS: Record<string, Record<string, ParamKind>> = {
  [MechanismType.KERNEL]: {
    [Param.name]: P.ifName,
    [Param.inodeURL]: P.netnsUrl,
    [Param.netnsInode]: P.uint64,
    [Param.pciAddress]: P.pci,
    [Param.tokenID]: P.token,
    [Param.supportsVlan]: P.bool,
    [Param.vlan]: P.kernelVlan,
    [Param.routeLocalNet]: P.bool,
  },
  [MechanismType.MEMIF]: {
    [Param.inodeURL]: P.netnsUrl,
    socketfile: kind('an abstract socket name (at most 107 bytes)', (v) => isToken(v, 107)),
  },
  [MechanismType.VFIO]: {
    cgroupDir: P.cgroupDir,
    iommuGroup: P.uint32,
    [Param.pciAddress]: P.pci,
    [Param.tokenID]: P.token,
    vfioMajor: P.uint32,
    vfioMinor: P.uint32,
    deviceMajor: P.uint32,
    deviceMinor: P.uint32,
  },
  [MechanismType.VXLAN]: { ...tunnel(), [Param.vni]: P.vni },
  [MechanismType.WIREGUARD]: tunnel(P.wgKey),
  [MechanismType.IPSEC]: tunnel(P.certificate),
  [MechanismType.VLAN]: { [Param.vlanId]: P.vlanId },
};

/** `o[k]` only for keys of `o` itself: a type or key named "constructor" finds nothing. */
const own = <T>(o: Record<string, T>, k: string): T | undefined => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

/** A key nobody interprets: plain and short. */
const GENERIC_KEY = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
const TYPE = /^[A-Za-z0-9_.-]+$/;
const CLASSES = new Set<string>(['', MechanismClass.LOCAL, MechanismClass.REMOTE]);

/** Checks one mechanism (a preference or a connection's); `field` is its path in the message. */
export function checkMechanism(field: string, m: Mechanism | undefined): void {
  if (m === undefined || m === null) return;
  if (typeof m !== 'object') throw invalidArgument(`${field}: ${typeof m} is not a mechanism`);
  const cls = requireString(`${field}.cls`, m.cls);
  if (!CLASSES.has(cls)) throw malformed(`${field}.cls`, cls, 'is not a mechanism class (LOCAL or REMOTE)');
  const type = requireString(`${field}.type`, m.type);
  if (type) {
    checkBytes(`${field}.type`, type, Limits.mechanismTypeBytes);
    if (!TYPE.test(type)) throw malformed(`${field}.type`, type, 'is not a mechanism type');
  }
  const schema = own(MECHANISM_SCHEMAS, type) ?? {};
  for (const [k, v] of entries(`${field}.parameters`, m.parameters, Limits.mechanismParameters)) {
    const f = keyPath(`${field}.parameters`, k);
    if (byteLength(k) > Limits.parameterKeyBytes || !GENERIC_KEY.test(k)) {
      throw malformed(`${field}.parameters key`, k, `is not a parameter key (letters, digits, _ . : / -; at most ${Limits.parameterKeyBytes} bytes)`);
    }
    const value = requireString(f, v);
    if (value === '') continue;
    const known = own(schema, k);
    if (known) checkFormat(f, value, known.ok, known.what);
    else checkText(f, value, Limits.parameterValueBytes);
  }
}

/** Checks a preference list: its length, then each entry, which must name its type. */
export function checkPreferences(field: string, prefs: Mechanism[] | undefined): void {
  list(field, prefs, Limits.mechanismPreferences).forEach((m, i) => {
    checkMechanism(`${field}[${i}]`, m);
    if (!m?.type) throw invalidArgument(`${field}[${i}].type must not be empty`);
  });
}
