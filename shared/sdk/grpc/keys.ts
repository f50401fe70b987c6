// What the gRPC edge puts in a call's Context for the elements to read: the incoming metadata (the
// caller's token travels there) and the peer's identity. The edge defines them, elements only read.
import { createKey } from '../core/context';
import type { PeerInfo } from '../token';

/** Incoming call metadata (first value per key), put in the context by the gRPC boundary. */
export const incomingMetadataKey = createKey<Record<string, string>>('grpc.incomingMetadata');
/** The calling peer, put in the context by the gRPC boundary. */
export const peerKey = createKey<PeerInfo>('grpc.peer');
