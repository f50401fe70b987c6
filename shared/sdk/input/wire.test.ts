import { Connection, ConnectionEvent, Mechanism, NetworkServiceEndpoint, NetworkServiceEndpointQuery, NetworkServiceRequest } from '@nsm/api';
import { Code } from '../core/errors';
import { MAX_MESSAGE_BYTES, MAX_WIRE_FIELDS } from './limits';
import { checkWire } from './wire';

const encodeRequest = (r: Partial<NetworkServiceRequest>) => Buffer.from(NetworkServiceRequest.encode(NetworkServiceRequest.fromPartial(r)).finish());
/** `n` repetitions of `unit`. */
function repeat(unit: number[], n: number): Buffer {
  const b = Buffer.alloc(unit.length * n);
  for (let i = 0; i < b.length; i++) b[i] = unit[i % unit.length];
  return b;
}

test('real messages pass, including the largest the limits allow', () => {
  const big = encodeRequest({
    connection: Connection.fromPartial({
      id: 'x',
      labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'])),
      path: { index: 0, pathSegments: Array.from({ length: 32 }, () => ({ name: 'a', id: 'b', token: 't', metrics: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`m${i}`, '1'])) })) },
    }),
    mechanismPreferences: Array.from({ length: 16 }, () => Mechanism.fromPartial({ type: 'K', parameters: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`p${i}`, 'v'])) })),
  });
  expect(() => checkWire('NetworkServiceRequest', big, 'request')).not.toThrow();
  const nse = NetworkServiceEndpoint.fromPartial({
    name: 'n',
    networkServiceLabels: Object.fromEntries(Array.from({ length: 32 }, (_, s) => [`s${s}`, { labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'])) }])),
  });
  expect(() => checkWire('NetworkServiceEndpointQuery', NetworkServiceEndpointQuery.encode({ networkServiceEndpoint: nse, watch: true }).finish())).not.toThrow();
  expect(() => checkWire('ConnectionEvent', ConnectionEvent.encode({ type: 1, connections: { a: Connection.fromPartial({ id: 'a' }) } }).finish())).not.toThrow();
});

test('4 MiB of empty mechanism preferences are refused at the limit, without reading (or decoding) the rest', () => {
  // Field 2, length 0: two bytes per preference, two million of them. Everything after the first
  // MAX_WIRE_FIELDS + 1 fields is made invalid (wire type 7): a walk or decode that went on past the
  // limit would refuse the message as INVALID_ARGUMENT, so RESOURCE_EXHAUSTED proves it stopped there.
  // (No wall-clock bound: a timing check fails on a loaded CI machine, not on a slow walk.)
  const flood = repeat([0x12, 0x00], MAX_MESSAGE_BYTES / 2);
  flood.fill(0x0f, (MAX_WIRE_FIELDS + 1) * 2);
  expect(() => checkWire('NetworkServiceRequest', flood, 'request')).toThrow(
    expect.objectContaining({ code: Code.RESOURCE_EXHAUSTED, message: `the request has more than ${MAX_WIRE_FIELDS} fields` }),
  );
  // The same bytes with the garbage moved inside the limit are refused for the garbage: the check above
  // is not passing for want of looking.
  const early = repeat([0x12, 0x00], MAX_MESSAGE_BYTES / 2);
  early.fill(0x0f, MAX_WIRE_FIELDS * 2 - 2);
  expect(() => checkWire('NetworkServiceRequest', early, 'request')).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
});

test('fields nested in the connection count too (labels inside field 1)', () => {
  const labels = repeat([0x2a, 0x00], MAX_WIRE_FIELDS);
  const conn = Buffer.concat([Buffer.from([0x0a]), varint(labels.length), labels]);
  expect(() => checkWire('NetworkServiceRequest', conn)).toThrow(expect.objectContaining({ code: Code.RESOURCE_EXHAUSTED }));
});

test.each([
  ['a truncated varint', [0x08, 0xff]],
  ['a length past the end', [0x0a, 0x05, 0x01]],
  ['field number 0', [0x00, 0x01]],
  ['wire type 7', [0x0f]],
  ['a start group (wire type 3)', [0x0b]],
  ['a 64-bit field cut short', [0x09, 0x01, 0x02]],
  ['an 11-byte varint', [0x08, ...Array(10).fill(0xff), 0x01]],
])('%s is not protobuf: INVALID_ARGUMENT', (_n, bytes) => {
  expect(() => checkWire('NetworkServiceRequest', Buffer.from(bytes), 'request')).toThrow(
    expect.objectContaining({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/^the request is not a valid protobuf message/) }),
  );
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
