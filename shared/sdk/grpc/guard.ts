// What the gRPC edge does with a message's bytes before decoding them. grpc-js answers bytes its
// deserializer cannot decode with INTERNAL, and decodes whatever fits in the size limit however many
// objects that makes. Guarded deserializers first count the fields (input/wire.ts) and then decode;
// bytes that are too many or not protobuf come out as a Refused value carrying the status, which the
// handler (or the client call) turns into RESOURCE_EXHAUSTED or INVALID_ARGUMENT.
import type * as grpc from '@grpc/grpc-js';
import { invalidArgument, StatusError } from '../core/errors';
import { checkWire, WireMessage } from '../input';

/** A message refused before or while decoding; `status` is the answer. */
export class Refused {
  constructor(readonly status: StatusError) {}
}

/** `decode` behind the wire check; never throws (a refusal comes back as a Refused). */
export function guardDecode<T>(type: WireMessage, what: string, decode: (b: Buffer) => T): (b: Buffer) => T | Refused {
  return (buf) => {
    try {
      checkWire(type, buf, what);
      return decode(buf);
    } catch (err) {
      return new Refused(err instanceof StatusError ? err : invalidArgument(`the ${what} cannot be decoded: ${(err as Error).message}`));
    }
  };
}

/**
 * A copy of a generated service definition whose request deserializers are guarded; `types` names the
 * request message of each method (by the definition's key), e.g. { request: 'NetworkServiceRequest' }.
 */
export function guardedService(def: grpc.ServiceDefinition | object, types: Record<string, WireMessage>): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(def as Record<string, grpc.MethodDefinition<unknown, unknown>>)) {
    const type = types[name];
    out[name] = type ? { ...m, requestDeserialize: guardDecode(type, 'request', m.requestDeserialize) } : m;
  }
  return out as grpc.ServiceDefinition;
}

/** The request of a call, or the status it was refused with. */
export function refusal(req: unknown): StatusError | undefined {
  return req instanceof Refused ? req.status : undefined;
}
