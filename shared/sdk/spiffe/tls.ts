// Mutual TLS for grpc-js from an identity source, for unix sockets and TCP alike: each side presents
// its X.509-SVID and requires the other's, verified against the bundle of the peer's trust domain;
// the identity is the peer's URI SAN (no hostname verification); plaintext and unknown trust domains
// are refused. Rotation: both sides use grpc-js's certificate-provider credentials, which build a new
// secure context for every new handshake (channels) or swap the listening server's secure context
// (server.setSecureContext), so a new SVID or bundle takes effect for new connections while the
// established ones carry on.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaCertificateUpdateListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityCertificateUpdateListener = grpc.experimental.IdentityCertificateUpdateListener;
type AuthContext = ReturnType<grpc.ServerUnaryCall<unknown, unknown>['getAuthContext']>;
import { parseSpiffeId } from './id';
import { peerFromAuthContext, TransportPeer } from './peer';
import type { X509Source } from './source';
import { spiffeIdOf, X509Bundles, X509Context } from './svid';
import { toPem } from './der';

export interface SpiffeTlsOptions {
  /** Which verified peers to accept; default any ID of a trusted trust domain (upstream's AuthorizeAny). */
  authorize?: (peerId: string) => boolean;
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
  if (!bundle || bundle.length === 0) throw new Error(`peer ${id}: trust domain ${trustDomain} is not trusted`);
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
  private readonly entries = new Map<string, { bundles: X509Bundles; id?: string; err?: string }>();

  verify(leaf: X509Certificate, intermediates: X509Certificate[] | undefined, bundles: X509Bundles, opts: SpiffeTlsOptions): string {
    const key = leaf.fingerprint256;
    let e = this.entries.get(key);
    if (!e || e.bundles !== bundles) {
      try {
        e = { bundles, id: verifyPeerChain(leaf, intermediates, bundles, opts) };
      } catch (err) {
        e = { bundles, err: (err as Error).message };
      }
      if (this.entries.size >= 1024) this.entries.clear();
      this.entries.set(key, e);
    }
    if (e.err) throw new Error(e.err);
    return e.id!;
  }
}

/**
 * Server credentials: the server presents its SVID and requires a client SVID that chains to a
 * trusted bundle (checked by TLS at the handshake); each call then also checks the SPIFFE rules
 * (verifyPeerChain) and fails UNAUTHENTICATED otherwise. Until the source has an SVID, connections
 * are dropped.
 */
export function spiffeServerCredentials(source: X509Source, opts: SpiffeTlsOptions = {}): grpc.ServerCredentials {
  const provider = new SourceCertificateProvider(source);
  const creds = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, true);
  const cache = new VerifyCache();
  const check: grpc.ServerInterceptor = (_method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((md, next) => {
        const why = peerProblem(call.getAuthContext(), source, cache, opts);
        if (why) call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: why });
        else next(md);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build());
  };
  return grpc.experimental.createServerCredentialsWithInterceptors(creds, [check]);
}

function peerProblem(ac: AuthContext, source: X509Source, cache: VerifyCache, opts: SpiffeTlsOptions): string | undefined {
  const ctx = source.current();
  if (!ctx) return 'no local SVID yet';
  const raw = ac.sslPeerCertificate?.raw;
  if (ac.transportSecurityType !== 'ssl' || !raw) return 'a client X.509-SVID is required';
  try {
    cache.verify(new X509Certificate(raw), undefined, ctx.bundles, opts);
    return undefined;
  } catch (err) {
    return (err as Error).message;
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
  /** The server identity of the latest successful handshake made with these credentials. */
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
  const checkServerIdentity = (_host: string, cert: PeerCertificate): Error | undefined => {
    try {
      const ctx = source.current();
      if (!ctx) return new Error('no local SVID yet');
      const { leaf, rest } = chainOf(cert);
      const id = verifyPeerChain(leaf, rest, ctx.bundles, opts);
      latest = { id, certificate: leaf };
      return undefined;
    } catch (err) {
      return err as Error;
    }
  };
  const credentials = grpc.experimental.createCertificateProviderChannelCredentials(provider, provider, { checkServerIdentity, rejectUnauthorized: true });
  return { credentials, options: { 'grpc.ssl_target_name_override': 'spiffe' }, peer: () => latest };
}

export { peerFromAuthContext };
