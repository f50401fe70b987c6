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
export function peerFromAuthContext(ac: AuthContext | null | undefined): TransportPeer | undefined {
  const raw = ac?.sslPeerCertificate?.raw;
  if (!raw) return undefined;
  try {
    const certificate = new X509Certificate(raw);
    return { id: spiffeIdOf(certificate), certificate };
  } catch {
    return undefined;
  }
}
