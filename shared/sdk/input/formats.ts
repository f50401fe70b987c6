// The value formats NSM's strings carry (api.md §4.3-4.4, §9), each a predicate that accepts exactly
// the form and nothing around it: no spaces, no trailing newline, no escapes, no zone ids. They are
// what a value must be before it may reach a host command, a netlink message or a socket protocol.
import { isIP } from 'node:net';
import { CONTROL } from './text';

/** A bare IPv4 or IPv6 literal: no prefix length, no zone id (`%eth0`), no brackets, no spaces. */
export function isIpLiteral(s: string): boolean {
  return s.length <= 45 && /^[0-9A-Fa-f:.]+$/.test(s) && isIP(s) !== 0;
}

export const ipFamily = (s: string): 4 | 6 => (isIP(s) === 6 ? 6 : 4);

/** `addr/len` with len within the family's width, written without sign or leading zeros. */
export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!isIpLiteral(addr) || !/^(0|[1-9]\d{0,2})$/.test(len)) return false;
  return Number(len) <= (ipFamily(addr) === 6 ? 128 : 32);
}

/** An address with or without prefix length (IPContext addresses: sdk-kernel accepts both). */
export const isAddress = (s: string): boolean => isIpLiteral(s) || isCidr(s);

/** A 48-bit MAC address in colon form, as the kernel and iproute2 print it. */
export const isMac = (s: string): boolean => /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(s);

/** A decimal integer (digits only: no sign, no exponent, no spaces) within [min, max]. */
export function isDecimal(s: string, min: number, max: number): boolean {
  if (!/^\d{1,20}$/.test(s)) return false;
  const n = Number(s);
  return Number.isSafeInteger(n) && n >= min && n <= max;
}

export const isPort = (s: string): boolean => isDecimal(s, 1, 65535);

/** "N" or "N-M" with ports, N ≤ M (PolicyRoute src_port/dst_port). */
export function isPortRange(s: string): boolean {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return false;
  const [a, b] = [Number(m[1]), m[2] === undefined ? Number(m[1]) : Number(m[2])];
  return a >= 1 && b <= 65535 && a <= b;
}

/** The strings Go's strconv.ParseBool accepts (api.md §4.3). */
const GO_BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);
export const isGoBool = (s: string): boolean => GO_BOOLS.has(s);

/**
 * A WireGuard key: standard base64 of exactly 32 bytes (44 characters, one '=' of padding), written
 * canonically (the unused low bits of the last character zero), as every WireGuard tool writes keys.
 */
export const isWireguardKey = (s: string): boolean => /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(s);

/** Standard base64 (padding required) of at most `maxBytes` characters: an IPsec DER certificate. */
export const isBase64 = (s: string, maxBytes: number): boolean =>
  s.length > 0 && s.length <= maxBytes && s.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s);

/** A PCI address, domain:bus:device.function, e.g. 0000:3b:02.1. */
export const isPciAddress = (s: string): boolean => /^[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]$/.test(s);

/** An opaque identifier such as an SR-IOV token id (`sriov-<uuid>`). */
export const isToken = (s: string, max = 128): boolean => s.length <= max && /^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(s);

/**
 * The bytes the kernel's isspace() is true for (lib/ctype.c): space, \t \n \v \f \r, and 0xA0, which
 * its Latin-1 table marks as a space too. In a UTF-8 name that byte occurs inside characters such as
 * "à" (C3 A0), so the kernel refuses those names.
 */
const KERNEL_SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0xa0]);

/**
 * The kernel's rule for an interface name (net/core/dev.c, dev_valid_name), over its UTF-8 bytes:
 * 1 to 15 bytes (IFNAMSIZ - 1), not "." or "..", no '/', ':' or isspace() byte. Anything else the
 * kernel accepts, and so does this.
 */
export function kernelAcceptsIfName(s: string): boolean {
  const b = Buffer.from(s, 'utf8');
  if (b.length === 0 || b.length > 15 || s === '.' || s === '..') return false;
  for (const c of b) if (c === 0x2f || c === 0x3a || KERNEL_SPACE.has(c)) return false;
  return true;
}

/**
 * An interface name NSM may ask for: what the kernel accepts, less control characters (the kernel
 * takes \x01 or a bidi override in a name; nothing that prints or parses names should have to).
 */
export function isIfName(s: string): boolean {
  return kernelAcceptsIfName(s) && !CONTROL.test(s);
}

/** One path segment of a URL path we accept: a conservative file name alphabet (not "." or "..", below). */
const PATH_SEGMENT = /^[A-Za-z0-9._@+,=~:-]{1,255}$/;

/** An absolute file path of segments from PATH_SEGMENT: no empty, "." or ".." segments, no escapes. */
export function isPlainAbsolutePath(p: string): boolean {
  if (!p.startsWith('/') || p.length > 4096) return false;
  const parts = p.slice(1).split('/');
  return parts.every((seg) => PATH_SEGMENT.test(seg) && seg !== '.' && seg !== '..');
}

/**
 * A file shared between processes as NSM names it (api.md §4.6): `file:///abs/path` locally, or
 * `inode://<dev>/<ino>` in transit. No host, query, fragment or percent-escapes: the netns handle is
 * opened from this path, so nothing may hide in it. Whose namespace it may be is not decided here.
 */
export function isFileUrl(s: string, maxBytes: number): boolean {
  if (s.length > maxBytes) return false;
  if (/^inode:\/\/\d{1,20}\/\d{1,20}$/.test(s)) return true;
  return s.startsWith('file:///') && isPlainAbsolutePath(s.slice('file://'.length));
}

/**
 * A URL a component listens on (NSE registrations, api.md §2.4): unix:///abs/path, tcp://host:port
 * (host a DNS name or an IP literal, IPv6 in brackets), inode://dev/ino, or a bare host:port.
 */
export function isEndpointUrl(s: string, maxBytes: number): boolean {
  if (s.length > maxBytes) return false;
  if (s.startsWith('unix://')) return isPlainAbsolutePath(s.slice('unix://'.length));
  if (s.startsWith('inode://')) return /^inode:\/\/\d{1,20}\/\d{1,20}$/.test(s);
  const hostPort = s.startsWith('tcp://') ? s.slice('tcp://'.length) : s;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(hostPort);
  if (!m || !isDecimal(m[3], 0, 65535)) return false;
  if (m[1] !== undefined) return isIpLiteral(m[1]) && ipFamily(m[1]) === 6;
  return m[2] === '' || isIpLiteral(m[2]) || isDnsName(m[2]);
}

/** A DNS name: dot-separated labels of letters, digits and inner hyphens, at most 253 characters. */
export function isDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  return name.split('.').every((l) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l));
}
