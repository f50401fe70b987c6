// `nsm-local request` and `nsm-local connections`: act as a pod (or as an intruder) against a node's
// nsmgr from outside the mesh, the way a process that mounted the pod's Workload API socket could.
// `request` makes one raw NetworkService Request, as a client chain would send it, with a chosen
// transport identity (the pod's SVID, none, or an SVID of a foreign trust domain) and a chosen token
// (valid, or forged, expired, unchained, unsigned); a granted connection is closed again at once.
// `connections` shows what MonitorConnections shows that identity: each connection's path with the
// SPIFFE IDs in its tokens. `request --netns self` names the namespace the way upstream's clients do,
// inode://<dev>/<ino> of the requesting process's own: run inside a pod (`nsm-local exec <pod>
// nsm-local request ...`), it is an outside client of that pod; `--hold` keeps what it got for a while.
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { monitorStream, NsmConnection, rpcClose, rpcRequest } from '@nsm/sdk/grpc/clients';
import { NetworkServiceGrpcClient } from '@nsm/sdk/grpc/nsclient';
import { dialTarget } from '@nsm/sdk/grpc/urls';
import { LocalCa } from '@nsm/sdk/spiffe/ca';
import { WorkloadApiClient } from '@nsm/sdk/spiffe/client';
import { StaticX509Source, X509Source } from '@nsm/sdk/spiffe/source';
import { GeneratedToken, jwtTokenGenerator, PeerInfo, TokenGenerator } from '@nsm/sdk/token';
import { audiences, parseJwt, signEs256 } from '@nsm/sdk/token/jwt';
import { spiffeTokenGenerator, SvidHistory } from '@nsm/sdk/token/spiffe';
import { inodeUrlOf } from '@nsm/sdk-kernel';
import type { WorkloadIdentity } from './identity';
import type { MeshPaths } from './paths';

export const SVID_KINDS = ['pod', 'none', 'foreign'] as const;
export const TOKEN_KINDS = ['valid', 'forged', 'expired', 'unchained', 'unsigned'] as const;
export type SvidKind = (typeof SVID_KINDS)[number];
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface ActAsOptions {
  /** The pod or component whose Workload API socket gives the identity. */
  as: string;
  /** The KERNEL inodeURL: 'named' (file:///var/run/netns/<the pod's>), 'self' (inode:// of this process's own), or a URL as given. */
  netns?: string;
  /** The client's interface name. */
  interfaceName?: string;
  /** Keep a granted connection this long before closing it (ms). */
  holdMs?: number;
  node: string;
  svid: SvidKind;
  token: TokenKind;
  foreignTrustDomain: string;
}

/** The Workload API socket of a pod or component, from the daemon's status. */
export function socketOf(identities: WorkloadIdentity[], name: string): WorkloadIdentity {
  const w = identities.find((i) => i.name === name);
  if (!w) throw new Error(`"${name}" has no identity in this mesh (have: ${identities.map((i) => i.name).join(', ')})`);
  return w;
}

async function podSource(w: WorkloadIdentity): Promise<WorkloadApiClient> {
  const source = new WorkloadApiClient({ address: `unix://${w.workloadApiSocket}` });
  await source.ready(10_000);
  return source;
}

/** An SVID of a trust domain the mesh does not know, trusting the mesh's bundle too: the server must refuse it. */
async function foreignSource(trustDomain: string, meshBundleFrom: X509Source, name: string): Promise<StaticX509Source> {
  const ca = await LocalCa.create({ trustDomain });
  const svid = await ca.issue(`spiffe://${trustDomain}/ns/default/pod/${name}`);
  const mesh = meshBundleFrom.current()!;
  return new StaticX509Source({ svid, svids: [svid], bundles: new Map([[trustDomain, ca.bundle()], ...mesh.bundles]) });
}

/** Token generators that a policy must refuse, built around the pod's real one. */
function tokensOf(kind: TokenKind, source: X509Source, id: string): TokenGenerator {
  const good = spiffeTokenGenerator({ source, maxLifetimeMs: 600_000 });
  // Re-signed with the key of the SVID this connection's handshake presented, as the good generator
  // does: with short SVIDs the current one may already be a newer one, and the refusal must be the
  // claims', not the signature's.
  const svids = new SvidHistory(source, Date.now);
  const resign = (t: GeneratedToken, claims: (c: Record<string, unknown>) => Record<string, unknown>, peer: PeerInfo | undefined, key?: KeyObject) => {
    const parsed = parseJwt(t.token)!;
    return { ...t, token: signEs256(claims({ ...parsed.claims }), key ?? svids.signer(peer?.localCertificate)!.key) };
  };
  switch (kind) {
    case 'valid':
      return good;
    case 'forged': {
      // The right claims, signed by a key that is not the SVID's.
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return (peer?: PeerInfo) => resign(good(peer), (c) => c, peer, privateKey);
    }
    case 'expired':
      return (peer?: PeerInfo) => resign(good(peer), (c) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 60 }), peer);
    case 'unchained':
      return (peer?: PeerInfo) => resign(good(peer), (c) => ({ ...c, aud: ['spiffe://nsm.local/somebody-else'] }), peer);
    case 'unsigned':
      return jwtTokenGenerator({ subject: id, lifetimeMs: 600_000 });
  }
}

/** A Request as a client chain sends it: its own segment first, a KERNEL interface in the namespace `inodeURL`. */
function rawRequest(name: string, service: string, inodeURL: string, ifName: string): NetworkServiceRequest {
  const id = `${name}-${Date.now().toString(36)}`;
  return {
    connection: Connection.fromPartial({ id, networkService: service, path: { index: 0, pathSegments: [{ name, id, token: '', metrics: {} }] } }),
    mechanismPreferences: [Mechanism.fromPartial({ cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL, name: ifName } })],
  };
}

/** The inodeURL `--netns` asks for. */
export function netnsUrlFor(paths: MeshPaths, as: string, netns = 'named'): string {
  if (netns === 'named') return `file:///var/run/netns/${paths.netns(as)}`;
  if (netns === 'self') return inodeUrlOf();
  return netns;
}

/** A plaintext Request: what an nsmgr before security accepted from anyone on the socket. */
function plaintextRequest(url: string, req: NetworkServiceRequest): Promise<Connection> {
  const client = new NetworkServiceGrpcClient(dialTarget(url), grpc.credentials.createInsecure());
  return new Promise<Connection>((resolve, reject) => {
    client.request(req, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      if (err) reject(StatusError.from(err));
      else resolve(res!);
    });
  });
}

export interface RequestOutcome {
  granted: boolean;
  code: string;
  message: string;
  as: string;
  svid: SvidKind;
  token: TokenKind;
  inodeURL: string;
  spiffeId?: string;
  path?: string[];
}

/** One Request to the node's nsmgr as `opts.as`; a granted connection is closed again. */
export async function actAsRequest(paths: MeshPaths, identities: WorkloadIdentity[], opts: ActAsOptions & { service: string }): Promise<RequestOutcome> {
  const url = `unix://${paths.nsmSocket(opts.node)}`;
  const inodeURL = netnsUrlFor(paths, opts.as, opts.netns);
  const req = rawRequest(opts.as, opts.service, inodeURL, opts.interfaceName ?? 'intruder0');
  const out = { as: opts.as, svid: opts.svid, token: opts.token, inodeURL };
  const ctx = Context.background().withTimeout(15_000).ctx;
  const refused = (err: unknown, spiffeId?: string): RequestOutcome => {
    const s = StatusError.from(err);
    return { ...out, granted: false, code: Code[s.code], message: s.message, ...(spiffeId ? { spiffeId } : {}) };
  };
  if (opts.svid === 'none') return plaintextRequest(url, req).then(() => ({ ...out, granted: true, code: 'OK', message: 'plaintext accepted' }), (e) => refused(e));
  const pod = await podSource(socketOf(identities, opts.svid === 'pod' ? opts.as : 'nsm-local'));
  const source = opts.svid === 'foreign' ? await foreignSource(opts.foreignTrustDomain, pod, opts.as) : pod;
  const spiffeId = source.current()!.svid.id;
  const cc = new NsmConnection(url, source);
  try {
    const tokens = tokensOf(opts.token, source, spiffeId);
    try {
      const conn = await rpcRequest(ctx, cc, req, tokens);
      if (opts.holdMs) {
        // What the pod got, for whoever watches, before it is closed again.
        console.error(JSON.stringify({ granted: conn.id, interface: conn.mechanism?.parameters.name, holdMs: opts.holdMs }));
        await new Promise((r) => setTimeout(r, opts.holdMs));
      }
      await rpcClose(Context.background().withTimeout(15_000).ctx, cc, conn, tokens).catch(() => undefined);
      return { ...out, granted: true, code: 'OK', message: 'granted (and closed again)', spiffeId, path: conn.path?.pathSegments.map((s) => s.name) };
    } catch (err) {
      return refused(err, spiffeId);
    }
  } finally {
    cc.close();
    pod.close();
  }
}

export interface ShownConnection {
  id: string;
  networkService: string;
  /** Each hop: its name and who signed its token for whom. */
  path: { name: string; sub?: string; aud?: string[]; exp?: string }[];
}

/** What MonitorConnections at the node's nsmgr shows the identity of `as` (initial state). */
export async function actAsConnections(paths: MeshPaths, identities: WorkloadIdentity[], as: string, node: string): Promise<ShownConnection[]> {
  const source = await podSource(socketOf(identities, as));
  const cc = new NsmConnection(`unix://${paths.nsmSocket(node)}`, source);
  const { ctx, cancel } = Context.background().withTimeout(15_000);
  let shown: ShownConnection[] | undefined;
  const done = monitorStream(ctx, cc, { pathSegments: [], networkServices: [] }, (ev) => {
    shown ??= Object.values(ev.connections).map((c) => ({
      id: c.id,
      networkService: c.networkService,
      path: (c.path?.pathSegments ?? []).map((s) => {
        const claims = parseJwt(s.token)?.claims;
        const exp = claims?.exp !== undefined ? new Date(claims.exp * 1000).toISOString() : undefined;
        return { name: s.name, sub: claims?.sub, aud: claims ? audiences(claims) : undefined, exp };
      }),
    }));
    cancel();
  });
  try {
    await done;
    if (!shown) throw new Error('MonitorConnections sent nothing');
    return shown;
  } finally {
    cancel();
    cc.close();
    source.close();
  }
}
