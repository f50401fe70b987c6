// The identity of the other end of a gRPC call, as TLS proved it: its SPIFFE ID and its leaf
// certificate (the public key that its path tokens must verify with, and the NotAfter that caps them).
import { X509Certificate } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { createKey } from '../core/context';
import { spiffeIdOf } from './svid';

type AuthContext = ReturnType<grpc.ServerUnaryCall<unknown, unknown>['getAuthContext']>;

export interface TransportPeer {
  /** The peer's SPIFFE ID (its certificate's URI SAN). */
  id: string;
  certificate: X509Certificate;
  /** Our own certificate as presented in the handshake of this connection, when known. */
  localCertificate?: X509Certificate;
  /** Server side: the trust domains (own and federated) this server trusted when the call came in. */
  trustDomains?: readonly string[];
}

/**
 * The server credentials (tls.ts) add this to a call's auth context: the certificate the server
 * presented on the call's connection, which grpc-js does not report, and the trust domains it trusted. Tokens the server signs for the
 * caller must verify against it (token/spiffe.ts), also after the server's SVID rotated.
 */
export interface AuthContextWithLocal {
  sslLocalCertificate?: X509Certificate;
  spiffeTrustDomains?: readonly string[];
}

/**
 * A slot the gRPC client edge fills once a call has run over gRPC: called = true, and peer = the
 * server's TLS identity (absent on plaintext). For the client side of authorization
 * (next_token_signed). Put an empty object in the context, call, then read it.
 */
export const callPeerSlotKey = createKey<{ called?: boolean; peer?: TransportPeer }>('grpc.callPeerSlot');

/**
 * The peer of a call from grpc-js's auth context (server calls: call.getAuthContext(); client calls
 * in grpc-js 1.14 too, once the call has a transport). Undefined for plaintext or certificate-less
 * peers, or a certificate that is not an X.509-SVID.
 */
/** Peers seen recently, by certificate bytes: every call on a connection shows the same certificate. */
const recent = new Map<string, TransportPeer | null>();

/** By the certificate object: a server connection reports the same object on every call (tls.ts). */
const byObject = new WeakMap<object, TransportPeer | null>();

function peerOfCertificate(cert: { raw: Buffer }): TransportPeer | undefined {
  const known = byObject.get(cert);
  if (known !== undefined) return known ?? undefined;
  const raw = cert.raw;
  const key = raw.toString('base64');
  let p = recent.get(key);
  if (p === undefined) {
    try {
      const certificate = new X509Certificate(raw);
      p = { id: spiffeIdOf(certificate), certificate };
    } catch {
      p = null;
    }
    if (recent.size >= 256) recent.delete(recent.keys().next().value!);
    recent.set(key, p);
  }
  byObject.set(cert, p);
  return p ?? undefined;
}

export function peerFromAuthContext(ac: AuthContext | null | undefined): TransportPeer | undefined {
  const cert = ac?.sslPeerCertificate;
  if (!cert?.raw) return undefined;
  const p = peerOfCertificate(cert);
  if (!p) return undefined;
  const { sslLocalCertificate: localCertificate, spiffeTrustDomains: trustDomains } = ac as AuthContextWithLocal;
  if (!localCertificate && !trustDomains) return p;
  return { ...p, ...(localCertificate ? { localCertificate } : {}), ...(trustDomains ? { trustDomains } : {}) };
}
