// The fuzz cases: hostile NetworkService, MonitorConnection and registry calls made from a seed, so a
// failing run can be replayed (NSM_FUZZ_SEED). Every structured case is malformed by construction in
// at least one field (the rest may be anything, including a real service), so none of them may be
// answered OK; raw-byte cases are garbage and may decode to something harmless.
//
// Hostile strings carry the marker FZ7Q where they can, so that a trace of the processes under test
// can tell a command built from input from one the component built itself.
import {
  Connection,
  ConnectionContext,
  Mechanism,
  MonitorScopeSelector,
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceQuery,
  NetworkServiceRequest,
  PathSegment,
} from '@nsm/api';

export const MARKER = 'FZ7Q';

/** mulberry32: small, fast, good enough to spread cases; the same seed gives the same cases. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export type Target = 'nsmgr' | 'forwarder' | 'nse' | 'registry';

export interface FuzzCase {
  n: number;
  family: string;
  target: Target;
  /** Full gRPC method path. */
  method: string;
  stream: boolean;
  body: Buffer;
  metadata: Record<string, string>;
  /** Garbage bytes: may decode to something harmless, so OK is a possible answer for Close/Find/Unregister. */
  raw: boolean;
}

export const M = {
  request: '/networkservice.NetworkService/Request',
  close: '/networkservice.NetworkService/Close',
  monitor: '/connection.MonitorConnection/MonitorConnections',
  nseRegister: '/registry.NetworkServiceEndpointRegistry/Register',
  nseFind: '/registry.NetworkServiceEndpointRegistry/Find',
  nseUnregister: '/registry.NetworkServiceEndpointRegistry/Unregister',
  nsRegister: '/registry.NetworkServiceRegistry/Register',
  nsFind: '/registry.NetworkServiceRegistry/Find',
  nsUnregister: '/registry.NetworkServiceRegistry/Unregister',
} as const;

// ------------------------------------------------------------------------------------------------
// Hostile values

/** Appended to a value, each makes it malformed wherever it goes (control characters, line breaks). */
const CONTROL_TAILS = [`\n${MARKER} netns add ${MARKER}`, `\r\nX-${MARKER}: 1`, `\u0000${MARKER}`, `\t${MARKER}`, `\u001b[31m${MARKER}`, `\u007f`, `\u0085${MARKER}`, `\u2028${MARKER}`, `\u202e${MARKER}`, '\ufeff'];
/** Shell- and protocol-shaped text: malformed for every typed value, legal only as free text. */
const SHELL = [
  `192.0.2.1\nnetns add ${MARKER} #`,
  `; ip netns add ${MARKER}`,
  `$(ip netns add ${MARKER})`,
  `\`touch /tmp/${MARKER}\``,
  ` && ip link del eth0 #${MARKER}`,
  `| sh -c ${MARKER}`,
  `' OR '1'='1`,
  `"${MARKER}\\`,
  `#${MARKER}`,
  `../../${MARKER}`,
  `%0a${MARKER}`,
  `-${MARKER}`,
  `${MARKER} `,
  `a b ${MARKER}`,
  `{{.${MARKER}}}`,
  `\${${MARKER}}`,
];
const UNICODE = ['zéro\u200b', '😀', 'à', 'ǅ', '\ud800', 'Ａ', 'ﬁ', '\u0301'];

/** Larger than any free-text limit (the largest, extra context values, is 4096 bytes). */
const HUGE = (r: Rng) => 'x'.repeat(r.chance(0.02) ? 1 << 20 : r.pick([4097, 9000, 70_000]));
/** Mostly a little over a limit, now and then far over it. */
const over = (r: Rng, limit: number, far: number) => (r.chance(0.05) ? far : limit + 1 + r.int(limit));

/** A value malformed for a typed parameter of `kind`. */
function badTyped(r: Rng, kind: string): string {
  const wrong: Record<string, string[]> = {
    ip: ['999.1.1.1', 'fe80::1%eth0', '10.0.0.1/32', 'localhost', '1.2.3', '01.2.3.4', '[::1]', '0x7f.1', '::ffff:1.2.3.4:80'],
    port: ['0', '65536', '-1', '80 ', '1e3', '0x50', '+80', '80-90', '99999999999999999999999'],
    vni: ['16777216', '-1', '1.5', '0x10', '4294967296'],
    mtu: ['67', '65536', '-1500', '1500.0', 'auto'],
    bool: ['yes', 'tRUE', '2', 'on', 'TrUe'],
    ifName: ['a'.repeat(16), 'eth0:1', 'a/b', '.', '..', 'à', 'a b', 'nsm\n1', 'x'.repeat(200)],
    netnsUrl: ['file:///proc/1/ns/../ns/net', 'file://host/proc/1/ns/net', 'file:///var/run/netns/x%0ay', 'unix:///proc/1/ns/net', '/proc/1/ns/net', 'inode://4/x', `file:///${'a/'.repeat(400)}`, 'file:///proc/1/ns/net?x', 'file:///a//b'],
    vlan: ['4095', '-1', '1e2', '65536', 'v100'],
    vlanId: ['0', '4095', '-1', 'one'],
    key: ['AAAA', Buffer.alloc(31, 1).toString('base64'), Buffer.alloc(33, 1).toString('base64'), Buffer.alloc(32, 1).toString('base64url'), `${Buffer.alloc(32, 1).toString('base64')}\nallowed_ip=0.0.0.0/0`],
    pci: ['0000:3b:02.8', '3b:02.1', '0000:3b:02.1;reboot'],
  };
  const pool = wrong[kind] ?? [];
  if (pool.length && r.chance(0.5)) return r.pick(pool);
  // Shell text with a space or a line break in it is no value of any typed kind (some without, such
  // as "#x" or "-x", are fine interface names).
  if (r.chance(0.5)) return r.pick(SPACED_SHELL);
  return r.pick(['10.0.0.1', '4789', 'nsm-1', 'true', '100']) + r.pick([...CONTROL_TAILS, ...SPACED_SHELL]);
}

const SPACED_SHELL = SHELL.filter((s) => /\s/.test(s));

/** Free text made malformed: control characters, or too large. */
function badText(r: Rng, base = 'v'): string {
  return r.chance(0.8) ? base + r.pick(CONTROL_TAILS) : HUGE(r);
}

/** A name made malformed: whitespace, control characters, or too long. */
function badName(r: Rng): string {
  return r.pick([() => badText(r, 'svc'), () => `svc ${MARKER}`, () => r.pick(SHELL).replace(/^[^\s]*$/, `x ${MARKER}`), () => 'n'.repeat(over(r, 253, 70_000))])();
}

// ------------------------------------------------------------------------------------------------
// Well-formed pieces (to surround the malformed one)

const SERVICES = ['fz-good', 'fz-hostile', 'icmp-responder', 'no-such-service'];

function goodConnection(r: Rng, ctx: GenContext): Connection {
  const id = `fz-${r.int(1e9)}`;
  return Connection.fromPartial({
    id,
    networkService: r.pick(SERVICES),
    labels: r.chance(0.5) ? { app: 'fz', [`k${r.int(10)}`]: r.pick(['x', 'zürich', '😀', '{{.nodeName}}']) } : {},
    path: r.chance(0.5) ? { index: 0, pathSegments: [PathSegment.fromPartial({ name: 'fz-client', id, token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' })] } : undefined,
    payload: r.pick(['', 'IP', 'ETHERNET']),
    networkServiceEndpointName: r.chance(0.2) ? 'fz-nse' : '',
    mechanism: r.chance(0.2) ? goodMechanism(r, ctx) : undefined,
  });
}

function goodMechanism(r: Rng, ctx: GenContext): Mechanism {
  return r.pick([
    () => Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { name: `fz${r.int(1000)}`, inodeURL: ctx.netnsUrl } }),
    () => Mechanism.fromPartial({ cls: 'REMOTE', type: 'VXLAN', parameters: { src_ip: '10.233.0.77', src_port: '4789' } }),
    () => Mechanism.fromPartial({ cls: 'REMOTE', type: 'WIREGUARD', parameters: { src_ip: '10.233.0.77', src_port: '51820', src_public_key: Buffer.alloc(32, 5).toString('base64') } }),
    () => Mechanism.fromPartial({ cls: 'REMOTE', type: 'VLAN', parameters: {} }),
    () => Mechanism.fromPartial({ cls: 'LOCAL', type: 'NOOP', parameters: {} }),
  ])();
}

// ------------------------------------------------------------------------------------------------
// Malformed mechanisms, connections, contexts

const TYPED_KEYS: Record<string, Record<string, string>> = {
  KERNEL: { name: 'ifName', inodeURL: 'netnsUrl', supportsVlan: 'bool', vlan: 'vlan', pciAddress: 'pci', routeLocalNet: 'bool' },
  VXLAN: { src_ip: 'ip', dst_ip: 'ip', orig_src_ip: 'ip', orig_dst_ip: 'ip', src_port: 'port', dst_port: 'port', vni: 'vni', MTU: 'mtu' },
  WIREGUARD: { src_ip: 'ip', dst_ip: 'ip', src_port: 'port', dst_port: 'port', src_public_key: 'key', dst_public_key: 'key', MTU: 'mtu' },
  VLAN: { 'vlan-id': 'vlanId' },
  MEMIF: { inodeURL: 'netnsUrl' },
};

/** A mechanism with one malformed part. */
export function badMechanism(r: Rng, ctx: GenContext): { mech: Mechanism; what: string } {
  const m = goodMechanism(r, ctx);
  const how = r.int(10);
  if (how < 6) {
    const type = r.pick(Object.keys(TYPED_KEYS));
    const [key, kind] = r.pick(Object.entries(TYPED_KEYS[type]));
    m.cls = type === 'KERNEL' || type === 'MEMIF' ? 'LOCAL' : 'REMOTE';
    m.type = type;
    m.parameters[key] = badTyped(r, kind);
    return { mech: m, what: `${type}.${key}` };
  }
  if (how === 6) {
    m.parameters[r.pick(['future', 'IPTables4NatTemplate', 'x.y/z'])] = badText(r);
    return { mech: m, what: 'unknown key value' };
  }
  if (how === 7) {
    m.parameters[r.pick([`a b${MARKER}`, `k\n${MARKER}`, 'k'.repeat(65), `${MARKER};rm`, '', '\u202e'])] = '1';
    return { mech: m, what: 'parameter key' };
  }
  if (how === 8) {
    for (let i = 0, n = over(r, 32, 5000); i < n; i++) m.parameters[`k${i}`] = 'v';
    return { mech: m, what: 'parameter count' };
  }
  if (r.chance(0.5)) m.type = r.pick([`KERNEL ${MARKER}`, `K\n${MARKER}`, 'K'.repeat(33), ...UNICODE.map((u) => `T${u}`)]);
  else m.cls = r.pick(['local', 'SIDEWAYS', `LOCAL\n${MARKER}`, 'REMOTE ']);
  return { mech: m, what: 'type or class' };
}

function badSegment(r: Rng): PathSegment {
  const s = PathSegment.fromPartial({ name: 'fz-seg', id: `fz-${r.int(1e6)}`, token: 'a.b.c' });
  r.pick([
    () => (s.name = badName(r)),
    () => (s.id = r.chance(0.2) ? badText(r) : r.pick([`id ${MARKER}`, `id'${MARKER}`, `id\\${MARKER}`, 'ïd', 'i'.repeat(257)])),
    () => (s.token = r.pick([`a.b.c ${MARKER}`, `a.b.c\n${MARKER}`, 't'.repeat(over(r, 8192, 70_000)), `{"alg":"none"}${MARKER}`, 'a.b.c;'])),
    () => (s.expires = { seconds: r.pick([253_402_300_800, 2 ** 52, -1]), nanos: 0 }),
    () => (s.expires = { seconds: 1, nanos: r.pick([-1, 1e9, 2 ** 31 - 1]) }),
    () => (s.metrics = Object.fromEntries(Array.from({ length: over(r, 32, 500) }, (_, i) => [`m${i}`, '1']))),
    () => (s.metrics = { [r.pick([`m ${MARKER}`, 'm\n'])]: '1' }),
    () => (s.metrics = { m: badText(r) }),
  ])();
  return s;
}

function badContext(r: Rng): ConnectionContext {
  const c = ConnectionContext.fromPartial({});
  const ip = () => (c.ipContext ??= ConnectionContext.fromPartial({ ipContext: {} }).ipContext!);
  const badAddr = () => r.pick([...SHELL, '10.0.0.1/33', '10.0.0.0/8 table 254', 'fd00::/129', 'default', `10.0.0.1/32${r.pick(CONTROL_TAILS)}`]);
  r.pick([
    () => ip().srcIpAddrs.push(badAddr()),
    () => ip().dstIpAddrs.push(badAddr()),
    () => ip().excludedPrefixes.push(r.pick(['10.0.0.1', ...SHELL, '10.0.0.0/8,10.1.0.0/16'])),
    () => ip().srcRoutes.push({ prefix: badAddr(), nextHop: '' }),
    () => ip().dstRoutes.push({ prefix: '10.0.0.0/8', nextHop: r.pick(['gateway', ...SHELL, '10.0.0.1/32']) }),
    () => ip().ipNeighbors.push({ ip: '10.0.0.1', hardwareAddress: r.pick([`aa:bb:cc:dd:ee:ff ${MARKER}`, 'aa-bb-cc-dd-ee-ff', 'zz:00:00:00:00:00']) }),
    () => ip().policies.push({ from: '', proto: r.pick(['256', 'tcp', '-1']), dstPort: '', srcPort: '', routes: [] }),
    () => ip().policies.push({ from: '', proto: '', dstPort: r.pick(['90-80', '0', '1-70000', `80;${MARKER}`]), srcPort: '', routes: [] }),
    () => ip().extraPrefixRequest.push({ addrFamily: { family: r.pick([2, 7, -1]) as never }, prefixLen: 24, requiredNumber: 1, requestedNumber: 1 }),
    () => ip().extraPrefixRequest.push({ addrFamily: { family: 0 }, prefixLen: r.pick([33, 200, 2 ** 31 - 1]), requiredNumber: 1, requestedNumber: 1 }),
    () => (ip().srcIpAddrs = Array.from({ length: over(r, 32, 1000) }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`)),
    () => (ip().dstRoutes = Array.from({ length: over(r, 256, 3000) }, () => ({ prefix: '10.0.0.0/8', nextHop: '' }))),
    () => (c.dnsContext = { configs: [{ dnsServerIps: [r.pick(['dns.google', ...SHELL])], searchDomains: [] }] }),
    () => (c.dnsContext = { configs: [{ dnsServerIps: ['10.96.0.10'], searchDomains: [r.pick([`a.local\nnameserver 6.6.6.6 #${MARKER}`, '-a.com', 'a..b', 'x'.repeat(300)])] }] }),
    () => (c.dnsContext = { configs: Array.from({ length: over(r, 16, 400) }, () => ({ dnsServerIps: ['1.1.1.1'], searchDomains: [] })) }),
    () => (c.ethernetContext = { srcMac: r.pick(['', `02:00:00:00:00:01 ${MARKER}`]), dstMac: r.pick(['zz', '']), vlanTag: r.pick([5000, -1, 2 ** 31 - 1]) }),
    () => (c.extraContext = { [r.pick([`k ${MARKER}`, 'k\n', ''])]: 'v' }),
    () => (c.extraContext = { k: r.chance(0.5) ? 'v'.repeat(5000) : badText(r) }),
    () => (c.extraContext = Object.fromEntries(Array.from({ length: over(r, 64, 2000) }, (_, i) => [`k${i}`, 'v']))),
    () => (c.MTU = r.pick([1, 67, 65536, 2 ** 32 - 1])),
  ])();
  return c;
}

/** A Connection with one malformed part; `what` names it. */
export function badConnection(r: Rng, ctx: GenContext): { conn: Connection; what: string } {
  const c = goodConnection(r, ctx);
  const families: [string, () => void][] = [
    ['id', () => (c.id = r.chance(0.2) ? badText(r, 'fz') : r.pick([`fz ${MARKER}`, `fz'${MARKER}`, `fz"${MARKER}`, 'fz-é', 'i'.repeat(over(r, 256, 5000))]))],
    ['network_service', () => (c.networkService = badName(r))],
    ['network_service_endpoint_name', () => (c.networkServiceEndpointName = badName(r))],
    ['payload', () => (c.payload = r.pick(['ip', 'CARRIER', `IP\n${MARKER}`, 'IP ']))],
    ['state', () => (c.state = r.pick([4, 99, 2 ** 31 - 1, -1, -(2 ** 31)]))],
    ['labels: count', () => (c.labels = Object.fromEntries(Array.from({ length: over(r, 64, 10_000) }, (_, i) => [`l${i}`, 'v'.repeat(r.pick([1, 100]))])))],
    ['labels: key', () => (c.labels = { [r.pick([`a b`, `k\n${MARKER}`, '', 'k'.repeat(318), `\u202e${MARKER}`])]: 'v' })],
    ['labels: value', () => (c.labels = { app: r.chance(0.5) ? 'v'.repeat(over(r, 512, 70_000)) : badText(r) })],
    ['labels: via', () => (c.labels = { via: badText(r, 'gw1') })],
    ['path: count', () => (c.path = { index: 0, pathSegments: Array.from({ length: over(r, 32, 2000) }, () => PathSegment.fromPartial({ name: 'a', id: 'b' })) })],
    ['path: index', () => (c.path = { index: r.pick([1, 5, 2 ** 31 - 1]), pathSegments: [PathSegment.fromPartial({ name: 'fz-client', id: c.id })] })],
    ['path: segment', () => (c.path = { index: 0, pathSegments: [badSegment(r)] })],
    ['mechanism', () => (c.mechanism = badMechanism(r, ctx).mech)],
    ['context', () => (c.context = badContext(r))],
  ];
  const [what, f] = r.pick(families);
  f();
  return { conn: c, what };
}

// ------------------------------------------------------------------------------------------------
// Raw bytes

/** Garbage: random bytes, floods of one field, truncations, nested garbage, wrong wire types. */
function garbage(r: Rng, valid: Buffer): Buffer {
  return r.pick([
    () => r.bytes(r.range(1, 2000)),
    () => Buffer.alloc(2 * (r.chance(0.03) ? 1_500_000 : 40_000), Buffer.from([r.pick([0x12, 0x2a, 0x0a]), 0x00])),
    () => valid.subarray(0, Math.max(1, r.int(valid.length))),
    () => Buffer.concat([valid, r.bytes(r.range(1, 64))]),
    () => Buffer.concat([Buffer.from([0x0a, 0x7f]), r.bytes(0x7f)]),
    () => Buffer.from([r.pick([0x0b, 0x0c, 0x0e, 0x0f, 0x07]), ...r.bytes(8)]),
    () => Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    // Over the 4 MiB message limit, now and then.
    () => (r.chance(0.03) ? Buffer.alloc(4 * 1024 * 1024 + r.range(1, 1024), 0x41) : r.bytes(16)),
  ])();
}

// ------------------------------------------------------------------------------------------------
// Registry records

function goodNse(r: Rng): NetworkServiceEndpoint {
  return NetworkServiceEndpoint.fromPartial({ name: `fz-nse-${r.int(1e6)}`, url: 'unix:///tmp/fz.sock', networkServiceNames: ['fz-good'] });
}

/**
 * An NSE record with one malformed part. As a `template` (a Find query, an Unregister) only parts that
 * are malformed in a template too: a query's url is any plain text, and an empty one matches all.
 */
function badNse(r: Rng, template = false): NetworkServiceEndpoint {
  const e = goodNse(r);
  const urls = template
    ? [`tcp://a b${MARKER}`, 'u'.repeat(600)]
    : [`tcp://10.0.0.1:5001;${MARKER}`, `unix:///tmp/../etc/${MARKER}`, `http://${MARKER}:80`, `tcp://10.0.0.1:99999`, `unix://relative`, `tcp://[fe80::1%eth0]:1`, 'u'.repeat(600), ''];
  r.pick([
    () => (e.name = badName(r)),
    () => (e.url = r.chance(0.2) ? badText(r, 'tcp://10.0.0.1:1') : r.pick(urls)),
    () => (e.networkServiceNames = Array.from({ length: over(r, 32, 3000) }, (_, i) => `s${i}`)),
    () => (e.networkServiceNames = ['fz-good', badName(r)]),
    () => (e.networkServiceLabels = { 'fz-good': { labels: Object.fromEntries(Array.from({ length: r.pick([65, 2000]) }, (_, i) => [`k${i}`, 'v'])) } }),
    () => (e.networkServiceLabels = { [r.pick(['a b', '', `s\n${MARKER}`])]: { labels: {} } }),
    () => (e.networkServiceLabels = { 'fz-good': { labels: { k: badText(r) } } }),
    () => (e.networkServiceLabels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`s${i}`, { labels: {} }]))),
    () => (e.expirationTime = { seconds: r.pick([253_402_300_800, 2 ** 53 - 1, -5]), nanos: 0 }),
    () => (e.expirationTime = { seconds: 1, nanos: r.pick([-1, 1e9]) }),
    () => (e.initialRegistrationTime = { seconds: -1, nanos: 0 }),
    () => (e.pathIds = Array.from({ length: over(r, 32, 500) }, (_, i) => `spiffe://nsm.local/${i}`)),
    () => (e.pathIds = [r.chance(0.5) ? 'spiffe://a b' : badText(r, 'spiffe://x')]),
  ])();
  return e;
}

function badNs(r: Rng, template = false): NetworkService {
  const s = NetworkService.fromPartial({ name: `fz-ns-${r.int(1e6)}`, payload: 'ETHERNET' });
  r.pick([
    () => (s.name = badName(r)),
    // No name is only malformed in a record: a template without one matches every service.
    () => (s.name = template ? badName(r) : ''),
    () => (s.payload = r.pick(['ip', `IP\n${MARKER}`, 'L2'])),
    () => (s.matches = Array.from({ length: over(r, 32, 1000) }, () => ({ sourceSelector: {}, routes: [], fallthrough: false, metadata: undefined }))),
    () => (s.matches = [{ sourceSelector: {}, routes: Array.from({ length: over(r, 32, 500) }, () => ({ destinationSelector: {}, weight: 1 })), fallthrough: false, metadata: undefined }]),
    () => (s.matches = [{ sourceSelector: { [r.pick(['a b', '', `k\n${MARKER}`])]: 'v' }, routes: [], fallthrough: true, metadata: undefined }]),
    () => (s.matches = [{ sourceSelector: {}, routes: [{ destinationSelector: { k: badText(r, '{{.nodeName}}') }, weight: 0 }], fallthrough: false, metadata: undefined }]),
    () => (s.matches = [{ sourceSelector: {}, routes: [], fallthrough: false, metadata: { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) } }]),
    () => (s.pathIds = [badText(r, 'spiffe://x')]),
  ])();
  return s;
}

// ------------------------------------------------------------------------------------------------
// Cases

/** What the generator needs to know about the mesh under test. */
export interface GenContext {
  /** A real namespace URL (a pod's), for the well-formed KERNEL parts. */
  netnsUrl: string;
}

const enc = {
  request: (r: NetworkServiceRequest) => Buffer.from(NetworkServiceRequest.encode(r).finish()),
  conn: (c: Connection) => Buffer.from(Connection.encode(c).finish()),
  selector: (s: MonitorScopeSelector) => Buffer.from(MonitorScopeSelector.encode(s).finish()),
  nse: (e: NetworkServiceEndpoint) => Buffer.from(NetworkServiceEndpoint.encode(e).finish()),
  ns: (s: NetworkService) => Buffer.from(NetworkService.encode(s).finish()),
  nseQuery: (e: NetworkServiceEndpoint, watch: boolean) => Buffer.from(NetworkServiceEndpointQuery.encode({ networkServiceEndpoint: e, watch }).finish()),
  nsQuery: (s: NetworkService, watch: boolean) => Buffer.from(NetworkServiceQuery.encode({ networkService: s, watch }).finish()),
};

/** Token metadata: mostly well-formed; sometimes the hostile part is the token itself. */
function tokenMetadata(r: Rng, hostile: boolean): Record<string, string> {
  if (!hostile) return r.chance(0.5) ? { 'nsm-client-token': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'nsm-client-token-expires': new Date(Date.now() + 60_000).toISOString() } : {};
  return r.pick([
    () => ({ 'nsm-client-token': `a.b.c ${MARKER}`, 'nsm-client-token-expires': new Date().toISOString() }),
    () => ({ 'nsm-client-token': `a.b.c;${MARKER}` }),
    () => ({ 'nsm-client-token': 't'.repeat(r.pick([8193, 7000])) + '!' }),
    () => ({ 'nsm-client-token': 'a.b.c', 'nsm-client-token-expires': r.pick(['tomorrow', '2026-13-45T99:99:99Z', `2026-01-01T00:00:00Z ${MARKER}`, '9'.repeat(70)]) }),
  ])();
}

/** `count` cases from `seed`, all at once. */
export function generate(seed: number, count: number, ctx: GenContext): FuzzCase[] {
  const it = cases(seed, ctx);
  return Array.from({ length: count }, () => it.next().value as FuzzCase);
}

/** An endless stream of cases from `seed`; the i-th case depends only on the seed and i. */
export function* cases(seed: number, ctx: GenContext): Generator<FuzzCase> {
  const r = new Rng(seed);
  let n = 0;
  let made: FuzzCase | undefined;
  const add = (c: Omit<FuzzCase, 'n'>) => void (made = { ...c, n: n++ });
  // Families and their weights (out of 100).
  const families: [number, () => void][] = [
    // Requests with one malformed field, to every NetworkService server.
    [34, () => {
      const { conn, what } = badConnection(r, ctx);
      const prefs = Array.from({ length: r.range(0, 3) }, () => goodMechanism(r, ctx));
      add({ family: `Request: connection.${what}`, target: r.pick(['nsmgr', 'nsmgr', 'forwarder', 'nse']), method: M.request, stream: false, body: enc.request({ connection: conn, mechanismPreferences: prefs }), metadata: tokenMetadata(r, false), raw: false });
    }],
    [20, () => {
      const conn = goodConnection(r, ctx);
      const prefs = Array.from({ length: r.range(0, 2) }, () => goodMechanism(r, ctx));
      const { mech, what } = badMechanism(r, ctx);
      prefs.splice(r.int(prefs.length + 1), 0, mech);
      add({ family: `Request: mechanism_preferences ${what}`, target: r.pick(['nsmgr', 'nsmgr', 'forwarder', 'nse']), method: M.request, stream: false, body: enc.request({ connection: conn, mechanismPreferences: prefs }), metadata: tokenMetadata(r, false), raw: false });
    }],
    [3, () => {
      const prefs = Array.from({ length: over(r, 16, 50_000) }, () => Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL' }));
      add({ family: 'Request: mechanism_preferences count', target: r.pick(['nsmgr', 'forwarder']), method: M.request, stream: false, body: enc.request({ connection: goodConnection(r, ctx), mechanismPreferences: prefs }), metadata: {}, raw: false });
    }],
    [3, () => {
      add({ family: 'Request: token metadata', target: r.pick(['nsmgr', 'forwarder', 'nse']), method: M.request, stream: false, body: enc.request({ connection: goodConnection(r, ctx), mechanismPreferences: [goodMechanism(r, ctx)] }), metadata: tokenMetadata(r, true), raw: false });
    }],
    [10, () => {
      const { conn, what } = badConnection(r, ctx);
      add({ family: `Close: connection.${what}`, target: r.pick(['nsmgr', 'nsmgr', 'forwarder', 'nse']), method: M.close, stream: false, body: enc.conn(conn), metadata: tokenMetadata(r, false), raw: false });
    }],
    [2, () => {
      const sel = r.chance(0.5)
        ? MonitorScopeSelector.fromPartial({ pathSegments: r.chance(0.5) ? [badSegment(r)] : Array.from({ length: over(r, 32, 300) }, () => ({ name: 'a' })) })
        : MonitorScopeSelector.fromPartial({ networkServices: r.chance(0.5) ? [badName(r)] : Array.from({ length: over(r, 64, 2000) }, (_, i) => `s${i}`) });
      add({ family: 'MonitorConnections: selector', target: r.pick(['nsmgr', 'forwarder', 'nse']), method: M.monitor, stream: true, body: enc.selector(sel), metadata: {}, raw: false });
    }],
    [8, () => add({ family: 'Register NSE', target: r.pick(['nsmgr', 'registry']), method: M.nseRegister, stream: false, body: enc.nse(badNse(r)), metadata: {}, raw: false })],
    [5, () => add({ family: 'Register NS', target: r.pick(['nsmgr', 'registry']), method: M.nsRegister, stream: false, body: enc.ns(badNs(r)), metadata: {}, raw: false })],
    [4, () => {
      const nse = r.chance(0.7);
      add({ family: `Find ${nse ? 'NSE' : 'NS'}`, target: r.pick(['nsmgr', 'registry']), method: nse ? M.nseFind : M.nsFind, stream: true, body: nse ? enc.nseQuery(badNse(r, true), r.chance(0.5)) : enc.nsQuery(badNs(r, true), r.chance(0.5)), metadata: {}, raw: false });
    }],
    [3, () => {
      const nse = r.chance(0.7);
      const item = nse ? badNse(r, true) : badNs(r, true);
      // An Unregister needs a name and nothing else: make the name itself the hostile part half the time.
      if (r.chance(0.5) || !item.name) item.name = badName(r);
      add({ family: `Unregister ${nse ? 'NSE' : 'NS'}`, target: r.pick(['nsmgr', 'registry']), method: nse ? M.nseUnregister : M.nsUnregister, stream: false, body: nse ? enc.nse(item as NetworkServiceEndpoint) : enc.ns(item as NetworkService), metadata: {}, raw: false });
    }],
    [8, () => {
      // Garbage is made from messages that, should the garbage still decode, are refused or harmless:
      // a Request for a service nobody offers, Register records without url or name.
      const base = goodConnection(r, ctx);
      base.networkService = 'no-such-service';
      const [method, valid, stream] = r.pick([
        [M.request, enc.request({ connection: base, mechanismPreferences: [goodMechanism(r, ctx)] }), false],
        [M.close, enc.conn(goodConnection(r, ctx)), false],
        [M.nseRegister, enc.nse({ ...goodNse(r), url: '' }), false],
        [M.nsRegister, enc.ns(NetworkService.fromPartial({ name: '' })), false],
        [M.nseUnregister, enc.nse(goodNse(r)), false],
        [M.nseFind, enc.nseQuery(goodNse(r), false), true],
      ] as [string, Buffer, boolean][]);
      let body = garbage(r, valid);
      // A Find that decodes must not become a watch: the last watch field wins, so end with watch=false.
      if (method === M.nseFind) body = Buffer.concat([body, Buffer.from([0x10, 0x00])]);
      // Not the endpoint: it serves any well-formed Request (discovery is before it), and garbage that
      // decodes into one would be a real connection.
      const target: Target = method.startsWith('/registry') ? r.pick(['nsmgr', 'registry']) : method === M.request ? r.pick(['nsmgr', 'forwarder']) : r.pick(['nsmgr', 'forwarder', 'nse']);
      add({ family: `raw bytes: ${method.split('/')[2]}`, target, method, stream, body, metadata: {}, raw: true });
    }],
  ];
  const total = families.reduce((s, [w]) => s + w, 0);
  for (;;) {
    let x = r.int(total);
    for (const [w, f] of families) {
      if (x < w) {
        f();
        break;
      }
      x -= w;
    }
    yield made!;
  }
}

/** A hostile reply for the endpoint-side fuzz: the caller's connection with one malformed part. */
export function hostileReply(r: Rng, ctx: GenContext, asked: Connection): { conn: Connection; what: string } {
  const out = Connection.fromPartial(structuredClone(asked));
  out.mechanism = Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { name: `fz${r.int(1000)}`, inodeURL: ctx.netnsUrl } });
  const families: [string, () => void][] = [
    ['mechanism', () => (out.mechanism = badMechanism(r, ctx).mech)],
    ['KERNEL name', () => (out.mechanism!.parameters.name = badTyped(r, 'ifName'))],
    ['KERNEL inodeURL', () => (out.mechanism!.parameters.inodeURL = badTyped(r, 'netnsUrl'))],
    ['KERNEL vlan', () => (out.mechanism!.parameters.vlan = badTyped(r, 'vlan'))],
    ['context', () => (out.context = badContext(r))],
    ['labels', () => (out.labels = r.chance(0.5) ? { via: badText(r, 'gw') } : Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])))],
    ['path segment', () => out.path?.pathSegments.push(badSegment(r))],
    ['state', () => (out.state = r.pick([9, -1]) as never)],
    ['payload', () => (out.payload = `ETHERNET ${MARKER}`)],
  ];
  const [what, f] = r.pick(families);
  f();
  return { conn: out, what };
}
