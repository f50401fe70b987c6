// A look at a message's bytes before it is decoded. Decoding allocates an object per field: 4 MiB of
// empty mechanism preferences decode into two million objects, 400 MB and two seconds of a
// single-threaded server, before any check could refuse the count. This walk counts the fields of a
// message and of its nested messages (it knows which fields are messages from the proto files) without
// allocating anything, refuses more than MAX_WIRE_FIELDS with RESOURCE_EXHAUSTED, and refuses bytes
// that are not protobuf with INVALID_ARGUMENT. What it lets through decodes in bounded time; the
// per-field limits are checked on the decoded message (connection.ts, registry.ts).
import { invalidArgument, resourceExhausted, StatusError } from '../core/errors';
import { MAX_WIRE_FIELDS } from './limits';

/** For each message: its fields (by number) that hold messages worth descending into (map entries are counted, not entered). */
type Shape = Record<number, string>;

const SHAPES: Record<string, Shape> = {
  NetworkServiceRequest: { 1: 'Connection', 2: 'Mechanism' },
  Connection: { 3: 'Mechanism', 4: 'ConnectionContext', 6: 'Path' },
  Mechanism: {},
  Path: { 2: 'PathSegment' },
  PathSegment: {},
  ConnectionContext: { 1: 'IPContext', 2: 'DNSContext' },
  IPContext: { 5: 'Route', 6: 'Route', 11: 'PolicyRoute' },
  Route: {},
  PolicyRoute: { 5: 'Route' },
  DNSContext: { 1: 'DNSConfig' },
  DNSConfig: {},
  ConnectionEvent: { 2: 'ConnectionEventEntry' },
  ConnectionEventEntry: { 2: 'Connection' },
  MonitorScopeSelector: { 1: 'PathSegment' },
  NetworkService: { 3: 'Match' },
  Match: { 2: 'Destination', 4: 'Metadata' },
  Destination: {},
  Metadata: {},
  NetworkServiceEndpoint: { 3: 'NetworkServiceLabelsEntry' },
  NetworkServiceLabelsEntry: { 2: 'NetworkServiceLabels' },
  NetworkServiceLabels: {},
  NetworkServiceQuery: { 1: 'NetworkService' },
  NetworkServiceEndpointQuery: { 1: 'NetworkServiceEndpoint' },
  NetworkServiceResponse: { 1: 'NetworkService' },
  NetworkServiceEndpointResponse: { 1: 'NetworkServiceEndpoint' },
};

export type WireMessage = keyof typeof SHAPES;

class Walk {
  fields = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly what: string,
  ) {}

  bad(reason: string): StatusError {
    return invalidArgument(`the ${this.what} is not a valid protobuf message: ${reason}`);
  }

  /** Reads a varint at `pos` (at most 10 bytes); returns [value, next position]. */
  varint(pos: number, end: number): [number, number] {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw this.bad('truncated varint');
      const b = this.buf[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return [value, pos];
      scale *= 128;
    }
    throw this.bad('varint longer than 10 bytes');
  }

  message(shape: Shape, start: number, end: number): void {
    let pos = start;
    while (pos < end) {
      const [tag, afterTag] = this.varint(pos, end);
      pos = afterTag;
      const field = Math.floor(tag / 8);
      if (field === 0 || field > 0x1fffffff) throw this.bad(`field number ${field}`);
      if (++this.fields > MAX_WIRE_FIELDS) {
        throw resourceExhausted(`the ${this.what} has more than ${MAX_WIRE_FIELDS} fields`);
      }
      switch (tag % 8) {
        case 0:
          pos = this.varint(pos, end)[1];
          break;
        case 1:
          pos += 8;
          break;
        case 5:
          pos += 4;
          break;
        case 2: {
          const [len, at] = this.varint(pos, end);
          if (len > end - at) throw this.bad('length beyond the end of the message');
          const child = shape[field];
          if (child) this.message(SHAPES[child], at, at + len);
          pos = at + len;
          break;
        }
        default:
          throw this.bad(`wire type ${tag % 8} of field ${field}`);
      }
      if (pos > end) throw this.bad('truncated field');
    }
  }
}

/**
 * Throws RESOURCE_EXHAUSTED when `buf`, read as a `type`, holds more than MAX_WIRE_FIELDS fields in
 * all, and INVALID_ARGUMENT when it is not protobuf; `what` names it in the message ("request").
 */
export function checkWire(type: WireMessage, buf: Uint8Array, what: string = type): void {
  new Walk(buf, what).message(SHAPES[type], 0, buf.length);
}
