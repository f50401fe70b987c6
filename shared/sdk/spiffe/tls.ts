// Mutual TLS for grpc-js from an identity source, for unix sockets and TCP alike: each side presents
// its X.509-SVID and requires the other's, verified against the bundle of the peer's trust domain
// (the own one, or a federated one: interdomain); the identity is the peer's URI SAN (no hostname
// verification); plaintext and unknown trust domains are refused. A server refuses a client of a
// trust domain it does not federate with on its first call, PERMISSION_DENIED naming that trust
// domain (the TLS verdict is kept, the handshake completes only so that the client learns why);
// a client refuses such a server in the handshake. Rotation: both sides use grpc-js's certificate-provider credentials, which build a new
// secure context for every new handshake (channels) or swap the listening server's secure context
// (server.setSecureContext), so a new SVID or bundle takes effect for new connections while the
// established ones carry on.
import { X509Certificate } from 'node:crypto';
import { PeerCertificate, TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaCertificateUpdateListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityCertificateUpdateListener = grpc.experimental.IdentityCertificateUpdateListener;
type AuthContext = ReturnType<grpc.ServerUnaryCall<unknown, unknown>['getAuthContext']>;
import { parseSpiffeId } from './id';
import { AuthContextWithLocal, peerFromAuthContext, TransportPeer } from './peer';
import type { X509Source } from './source';
import { spiffeIdOf, X509Bundles, X509Context } from './svid';
import { toPem } from './der';

export interface SpiffeTlsOptions {
  /** Which verified peers to accept; default any ID of a trusted trust domain (upstream's AuthorizeAny). */
  authorize?: (peerId: string) => boolean;
}

/** A peer of a trust domain that is neither ours nor federated with ours: PERMISSION_DENIED. */
export class UntrustedDomain extends Error {
  constructor(
    readonly peerId: string,
    readonly trustDomain: string,
    bundles: X509Bundles,
  ) {
    super(`peer ${peerId}: trust domain ${trustDomain} is not trusted (trusted: ${[...bundles.keys()].join(', ') || 'none'}; a foreign trust domain must be federated)`);
  }
}

/**
 * Checks a peer's certificate chain for SPIFFE use after TLS verified it against the union of the
 * bundles: an SVID leaf (one SPIFFE ID URI SAN, not a CA) whose chain leads to a CA of its own trust
 * domain's bundle. `intermediates` are what the peer sent after its leaf; a server-side grpc-js call
 * only shows the leaf, so there a leaf signed by an intermediate is accepted only when a single trust
 * domain is trusted (TLS already anchored it in that one bundle). Returns the peer's SPIFFE ID.
 */
export function verifyPeerChain(leaf: X509Certificate, intermediates: X509Certificate[] | undefined, bundles: X509Bundles, opts: SpiffeTlsOptions = {}): string {
  if (leaf.ca) throw new Error('peer certificate is a CA, not an X.509-SVID');
  const id = spiffeIdOf(leaf);
  const { trustDomain } = parseSpiffeId(id);
  const bundle = bundles.get(trustDomain);
  if (!bundle || bundle.length === 0) throw new UntrustedDomain(id, trustDomain, bundles);
  const chain = [leaf, ...(intermediates ?? [])];
  const anchored = chain.some(
    (c, i) => (i > 0 && bundle.some((b) => b.fingerprint256 === c.fingerprint256)) || bundle.some((b) => c.checkIssued(b) && c.verify(b.publicKey)),
  );
  if (!anchored && !(intermediates === undefined && bundles.size === 1)) {
    throw new Error(`peer ${id}: certificate chain does not lead to the bundle of ${trustDomain}`);
  }
  if (opts.authorize && !opts.authorize(id)) throw new Error(`peer ${id} is not authorized`);
  return id;
}

/** Feeds an identity source into grpc-js: identity = SVID chain and key, CA = every trusted bundle. */
class SourceCertificateProvider implements CertificateProvider {
  private readonly ca = new Set<CaCertificateUpdateListener>();
  private readonly identity = new Set<IdentityCertificateUpdateListener>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly source: X509Source) {}

  private listening(): void {
    if (this.unsubscribe || this.ca.size + this.identity.size === 0) return;
    this.unsubscribe = this.source.subscribe((ctx) => this.emit(ctx));
  }

  private idle(): void {
    if (this.ca.size + this.identity.size > 0) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private caUpdate(ctx: X509Context) {
    return { caCertificate: Buffer.from(toPem([...ctx.bundles.values()].flat())) };
  }

  private identityUpdate(ctx: X509Context) {
    return {
      certificate: Buffer.from(toPem(ctx.svid.chain)),
      privateKey: Buffer.from(ctx.svid.key.export({ format: 'pem', type: 'pkcs8' }) as string),
    };
  }

  private emit(ctx: X509Context): void {
    // CA first: a new SVID may come from a CA that is new in the bundle.
    const ca = this.caUpdate(ctx);
    for (const l of this.ca) l(ca);
    const id = this.identityUpdate(ctx);
    for (const l of this.identity) l(id);
  }

  /**
   * The current value goes to a new listener on the next microtask, not synchronously: grpc-js's
   * server credentials register their listener before the watcher that applies the secure context,
   * so a synchronous first value would be lost and the server would drop every connection.
   */
  private deliverLater(stillListening: () => boolean, deliver: (ctx: X509Context) => void): void {
    queueMicrotask(() => {
      const ctx = this.source.current();
      if (ctx && stillListening()) deliver(ctx);
    });
  }

  addCaCertificateListener(l: CaCertificateUpdateListener): void {
    this.ca.add(l);
    this.listening();
    this.deliverLater(() => this.ca.has(l), (ctx) => l(this.caUpdate(ctx)));
  }

  removeCaCertificateListener(l: CaCertificateUpdateListener): void {
    this.ca.delete(l);
    this.idle();
  }

  addIdentityCertificateListener(l: IdentityCertificateUpdateListener): void {
    this.identity.add(l);
    this.listening();
    this.deliverLater(() => this.identity.has(l), (ctx) => l(this.identityUpdate(ctx)));
  }

  removeIdentityCertificateListener(l: IdentityCertificateUpdateListener): void {
    this.identity.delete(l);
    this.idle();
  }
}

/** Remembers verification results per leaf and bundle set: every call on a connection shows the same leaf. */
class VerifyCache {
  private readonly entries = new Map<string, { bundles: X509Bundles; id?: string; err?: Error }>();

  verify(leaf: X509Certificate, intermediates: X509Certificate[] | undefined, bundles: X509Bundles, opts: SpiffeTlsOptions): string {
    const key = leaf.fingerprint256;
    let e = this.entries.get(key);
    if (!e || e.bundles !== bundles) {
      try {
        e = { bundles, id: verifyPeerChain(leaf, intermediates, bundles, opts) };
      } catch (err) {
        e = { bundles, err: err as Error };
      }
      if (this.entries.size >= 1024) this.entries.clear();
      this.entries.set(key, e);
    }
    if (e.err) throw e.err;
    return e.id!;
  }
}

/** The server's own certificate on a connection, one X509Certificate per TLS socket. */
const localCertificates = new WeakMap<TLSSocket, X509Certificate>();

/**
 * The TLS socket of a server call. grpc-js reports only the peer's certificate, and only when TLS
 * verified it; the base call of grpc-js 1.14 (what the first interceptor receives) holds the HTTP/2
 * stream, whose TLS socket knows both certificates and the TLS verdict. chains/rotation.test.ts and
 * spiffe/tls.test.ts fail if a grpc-js update moves it.
 */
function tlsSocketOf(call: grpc.ServerInterceptingCallInterface): TLSSocket | undefined {
  const socket = (call as unknown as { stream?: { session?: { socket?: unknown } } }).stream?.session?.socket;
  return socket instanceof TLSSocket ? socket : undefined;
}

/** A client's certificate chain as a connection presented it, parsed. */
interface PeerChain {
  /** As TLS reports it (detailed: issuers linked), for grpc-js's auth context. */
  cert: PeerCertificate;
  leaf: X509Certificate;
  rest: X509Certificate[];
}

/** Client chains by TLS socket (null: the client sent none). */
const peerChains = new WeakMap<TLSSocket, PeerChain | null>();

/**
 * The client's chain on a server connection. Reading it from TLS and parsing it cost ~1 ms per call
 * (two to three certificates), and every call on a connection shows the same chain: on TLS 1.3,
 * which has no renegotiation, it is read once per connection; on older versions, on every call.
 */
function peerChainOf(socket: TLSSocket): PeerChain | undefined {
  const known = peerChains.get(socket);
  if (known !== undefined) return known ?? undefined;
  const cert = socket.getPeerCertificate(true);
  const chain = cert?.raw ? { cert, ...chainOf(cert) } : null;
  if (socket.getProtocol() === 'TLSv1.3') peerChains.set(socket, chain);
  return chain ?? undefined;
}

/** The certificate this end presented on the connection (server or client side). */
function localCertificateOf(socket: TLSSocket | undefined): X509Certificate | undefined {
  if (!socket) return undefined;
  let cert = localCertificates.get(socket);
  if (!cert) {
    const raw = (socket.getCertificate() as PeerCertificate | null)?.raw;
    if (!raw) return undefined;
    cert = new X509Certificate(raw);
    localCertificates.set(socket, cert);
  }
  return cert;
}

/**
 * A call whose auth context also names the server's own certificate on the connection and the trust
 * domains the server trusted when it let the call in (for the token policies: tokens_trust_domains).
 */
class LocallyIdentifiedCall extends grpc.ServerInterceptingCall {
  trustDomains: readonly string[] | undefined;

  constructor(
    next: grpc.ServerInterceptingCallInterface,
    responder: grpc.Responder,
    private readonly local: X509Certificate | undefined,
    private readonly socket: TLSSocket | undefined,
  ) {
    super(next, responder);
  }

  override getAuthContext(): AuthContext {
    // grpc-js's own reads the peer's certificate from TLS on every call; the same, once per connection.
    const chain = this.socket?.authorized ? peerChainOf(this.socket) : undefined;
    const ac: AuthContext = chain ? { transportSecurityType: 'ssl', sslPeerCertificate: chain.cert } : super.getAuthContext();
    const extra: AuthContextWithLocal = {
      ...(this.local ? { sslLocalCertificate: this.local } : {}),
      ...(this.trustDomains ? { spiffeTrustDomains: this.trustDomains } : {}),
    };
    return { ...ac, ...extra } as AuthContext & AuthContextWithLocal;
  }
}

/** The trust domain names of a bundle set, one array per set (a set changes only on rotation). */
const domainLists = new WeakMap<X509Bundles, readonly string[]>();
function trustDomainsOf(bundles: X509Bundles): readonly string[] {
  let l = domainLists.get(bundles);
  if (!l) domainLists.set(bundles, (l = Object.freeze([...bundles.keys()])));
  return l;
}

/**
 * Server credentials: the server presents its SVID and asks for the client's. TLS verifies the
 * client's chain against the union of the trusted bundles; the handshake completes either way, and
 * the first thing each call does is check the verdict and the SPIFFE rules (verifyPeerChain): a call
 * from a client TLS refused, or that breaks a SPIFFE rule, ends there (UNAUTHENTICATED; a trust
 * domain that is neither ours nor federated: PERMISSION_DENIED naming it) and no handler sees it.
 * Until the source has an SVID, connections are dropped. Calls' auth contexts also carry the
 * server's own certificate on the connection.
 */
export function spiffeServerCredentials(source: X509Source, opts: SpiffeTlsOptions = {}): grpc.ServerCredentials {
  const provider = new SourceCertificateProvider(source);
  const creds = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
  const cache = new VerifyCache();
  const check: grpc.ServerInterceptor = (_method, call) => {
    const socket = tlsSocketOf(call);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((md, next) => {
        const refusal = peerRefusal(socket, source, cache, opts);
        if (refusal) return call.sendStatus(refusal);
        const bundles = source.current()?.bundles;
        identified.trustDomains = bundles && trustDomainsOf(bundles);
        next(md);
      })
      .build();
    const identified = new LocallyIdentifiedCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build(), localCertificateOf(socket), socket);
    return identified;
  };
  return grpc.experimental.createServerCredentialsWithInterceptors(creds, [check]);
}

type Refusal = { code: grpc.status; details: string };

/** Why a call on `socket` may not go on, or undefined when its client is a trusted SPIFFE peer. */
function peerRefusal(socket: TLSSocket | undefined, source: X509Source, cache: VerifyCache, opts: SpiffeTlsOptions): Refusal | undefined {
  const unauthenticated = (details: string): Refusal => ({ code: grpc.status.UNAUTHENTICATED, details });
  const ctx = source.current();
  if (!ctx) return unauthenticated('no local SVID yet');
  // Fail closed: without the socket there is no TLS verdict to go by.
  if (!socket) return unauthenticated('the TLS connection of the call is not visible (grpc-js internals changed?)');
  const chain = peerChainOf(socket);
  if (!chain) return unauthenticated('a client X.509-SVID is required');
  const { leaf, rest } = chain;
  try {
    if (!socket.authorized) {
      // Name the trust domain when that is what TLS refused; otherwise TLS's own reason.
      let id: string | undefined;
      try {
        id = spiffeIdOf(leaf);
      } catch {
        /* not an SVID: TLS's reason below */
      }
      const td = id && parseSpiffeId(id).trustDomain;
      if (id && td && !ctx.bundles.has(td)) throw new UntrustedDomain(id, td, ctx.bundles);
      return unauthenticated(`client certificate${id ? ` of ${id}` : ''} refused: ${String(socket.authorizationError)}`);
    }
    cache.verify(leaf, rest, ctx.bundles, opts);
    return undefined;
  } catch (err) {
    if (err instanceof UntrustedDomain) return { code: grpc.status.PERMISSION_DENIED, details: err.message };
    return unauthenticated((err as Error).message);
  }
}

export interface SpiffeChannel {
  credentials: grpc.ChannelCredentials;
  /**
   * Channel options to use with these credentials: the TLS server name is fixed to a non-address
   * name (SNI may not carry an IP address, and unix targets have none); identity is checked by
   * SPIFFE ID, not by name.
   */
  options: grpc.ChannelOptions;
  /**
   * The server identity of the latest successful handshake made with these credentials, with the
   * certificate we presented in it (localCertificate).
   */
  peer(): TransportPeer | undefined;
}

/** The chain a client-side TLS socket received: leaf and the certificates it sent after it. */
function chainOf(cert: PeerCertificate): { leaf: X509Certificate; rest: X509Certificate[] } {
  const leaf = new X509Certificate(cert.raw);
  const rest: X509Certificate[] = [];
  type Detailed = PeerCertificate & { issuerCertificate?: Detailed };
  let c = (cert as Detailed).issuerCertificate;
  const seen = new Set([leaf.fingerprint256]);
  while (c?.raw && rest.length < 10) {
    const x = new X509Certificate(c.raw);
    if (seen.has(x.fingerprint256)) break;
    seen.add(x.fingerprint256);
    rest.push(x);
    c = c.issuerCertificate;
  }
  return { leaf, rest };
}

/**
 * Channel credentials: the client presents its SVID (the latest at each handshake) and accepts a
 * server whose SVID chains to the bundle of the server's trust domain. Use one per channel (or per
 * next-hop URL): peer() then tells who is at the other end, for token audiences and client-side
 * authorization.
 */
export function spiffeChannelCredentials(source: X509Source, opts: SpiffeTlsOptions = {}): SpiffeChannel {
  const provider = new SourceCertificateProvider(source);
  let latest: TransportPeer | undefined;
  /** The server of the handshake in progress, verified; completed by the socket's own certificate. */
  let verified: { id: string; certificate: X509Certificate } | undefined;
  const checkServerIdentity = (_host: string, cert: PeerCertificate): Error | undefined => {
    try {
      const ctx = source.current();
      if (!ctx) return new Error('no local SVID yet');
      const { leaf, rest } = chainOf(cert);
      const id = verifyPeerChain(leaf, rest, ctx.bundles, opts);
      verified = { id, certificate: leaf };
      // Until the connection reports the certificate it presented (onSecureSocket), the current SVID
      // is the best guess; it is wrong when the SVID rotated while the handshake was in flight.
      if (!hooked) latest = { ...verified, localCertificate: ctx.svid.chain[0] };
      return undefined;
    } catch (err) {
      return err as Error;
    }
  };
  const credentials = grpc.experimental.createCertificateProviderChannelCredentials(provider, provider, { checkServerIdentity, rejectUnauthorized: true });
  const hooked = onSecureSocket(credentials, (socket) => {
    if (!verified) return;
    const local = localCertificateOf(socket);
    latest = { ...verified, ...(local ? { localCertificate: local } : {}) };
    verified = undefined;
  });
  return { credentials, options: { 'grpc.ssl_target_name_override': 'spiffe' }, peer: () => latest };
}

/** grpc-js 1.14's connector of channel credentials: it wraps each new connection's socket in TLS. */
interface SecureConnector {
  connect(socket: unknown): Promise<{ socket: unknown; secure: boolean }>;
}

/**
 * Calls `seen` with the TLS socket of every connection `credentials` complete, before grpc-js uses
 * it. Which certificate a connection presented is known only to its socket: the secure context is
 * made when the connection starts, and an SVID rotating before the handshake ends would otherwise
 * make us sign tokens with a key the server never saw (refused: prev_token_signed) for as long as
 * the connection lives. grpc-js has no public hook for it; false when its internals moved
 * (spiffe/tls.test.ts fails then).
 */
function onSecureSocket(credentials: grpc.ChannelCredentials, seen: (socket: TLSSocket) => void): boolean {
  const c = credentials as unknown as { _createSecureConnector?: (...args: unknown[]) => SecureConnector };
  const make = c._createSecureConnector;
  if (typeof make !== 'function') return false;
  c._createSecureConnector = function (this: unknown, ...args: unknown[]): SecureConnector {
    const connector = make.apply(this, args);
    const connect = connector.connect.bind(connector);
    connector.connect = async (socket) => {
      const r = await connect(socket);
      if (r.socket instanceof TLSSocket) seen(r.socket);
      return r;
    };
    return connector;
  };
  return true;
}

export { peerFromAuthContext };
