// The gRPC edge over real sockets: raw bytes that are not protobuf, or too many fields, or too large a
// message, or a hostile selector, get a clear status, never INTERNAL or UNKNOWN, and reach no element;
// a next hop whose reply is garbage is refused on the client side with a clear status too.
import * as grpc from '@grpc/grpc-js';
import { Connection, ConnectionEvent, MonitorScopeSelector, NetworkServiceRequest } from '@nsm/api';
import { Context } from '../core/context';
import { Code } from '../core/errors';
import { handler } from '../core/networkservice';
import { MAX_MESSAGE_BYTES } from '../input';
import { spiffeChannelCredentials, spiffeServerCredentials } from '../spiffe/tls';
import { tempDir } from '../testing';
import { testIdentity, TestIdentity } from '../testing/identity';
import { recorder } from '../testing/elements';
import { monitorStream, NsmConnection, rpcRequest } from './clients';
import { startServer, StartedServer } from './server';
import { monitorRegistration, networkServiceRegistration } from './services';

const raw = (b: Buffer) => b;
/** A length-delimited field `field` holding `body`. */
const wrap = (field: number, body: Buffer) => Buffer.concat([Buffer.from([(field << 3) | 2, body.length]), body]);
/** A Connection whose one path segment expires at 2^63-1 seconds: Connection.path.path_segments[0].expires.seconds. */
const hugeExpiry = wrap(6, wrap(2, wrap(4, Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))));

describe('the gRPC edge refuses bytes before decoding them', () => {
  const tmp = tempDir('nsm-guard-');
  const rec = recorder();
  let server: StartedServer;
  let client: grpc.Client;
  const served: MonitorScopeSelector[] = [];
  beforeAll(async () => {
    const [srv, cli] = await Promise.all([testIdentity('server'), testIdentity('raw-client')]);
    const monitor = { serve: async (_ctx: Context, sel: MonitorScopeSelector) => void served.push(sel) };
    server = await startServer([`unix://${tmp.dir}/s.sock`], [networkServiceRegistration(handler(rec.el)), monitorRegistration(monitor)], { source: srv.source });
    // A raw client with a valid SVID: what it sends is checked after the handshake, as a pod's would be.
    const ch = spiffeChannelCredentials(cli.source);
    client = new grpc.Client(`unix://${tmp.dir}/s.sock`, ch.credentials, { ...ch.options, 'grpc.max_send_message_length': -1 });
  });
  afterAll(async () => {
    client.close();
    await server.stop(200);
    tmp.cleanup();
  });

  const call = (path: string, body: Buffer) =>
    new Promise<grpc.ServiceError | null>((resolve) => client.makeUnaryRequest(path, raw, raw, body, (err) => resolve(err)));

  const flood = (n: number) => Buffer.alloc(2 * n, Buffer.from([0x12, 0x00]));

  test.each([
    ['not protobuf', '/networkservice.NetworkService/Request', Buffer.from([0x0f, 0xff, 0xff]), Code.INVALID_ARGUMENT, /^the request is not a valid protobuf message/],
    ['a truncated Close', '/networkservice.NetworkService/Close', Buffer.from([0x0a, 0x10, 0x01]), Code.INVALID_ARGUMENT, /^the request is not a valid protobuf message/],
    ['a segment expiry of 2^63-1 seconds (the decoder throws)', '/networkservice.NetworkService/Close', hugeExpiry, Code.INVALID_ARGUMENT, /^the request cannot be decoded: /],
    ['a million empty preferences (2 MB)', '/networkservice.NetworkService/Request', flood(1_000_000), Code.RESOURCE_EXHAUSTED, /^the request has more than 32768 fields$/],
    ['a message over 4 MiB', '/networkservice.NetworkService/Request', Buffer.alloc(MAX_MESSAGE_BYTES + 16, 0x00), Code.RESOURCE_EXHAUSTED, /message larger than max|Received message larger than max/],
  ])('%s: %s', async (_n, path, body, code, message) => {
    const err = await call(path, body);
    expect({ code: err?.code, details: err?.details }).toEqual({ code, details: expect.stringMatching(message) });
    expect(rec.requests).toHaveLength(0);
    expect(rec.closes).toHaveLength(0);
  });

  test('a hostile monitor selector is refused before it is served', async () => {
    const sel = MonitorScopeSelector.fromPartial({ networkServices: Array.from({ length: 100 }, (_, i) => `s${i}`) });
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const s = client.makeServerStreamRequest('/connection.MonitorConnection/MonitorConnections', (m: MonitorScopeSelector) => Buffer.from(MonitorScopeSelector.encode(m).finish()), raw, sel);
      s.on('error', resolve);
      s.on('data', () => undefined);
    });
    expect({ code: err.code, details: err.details }).toEqual({ code: Code.RESOURCE_EXHAUSTED, details: 'network_services: 100 entries, at most 64 allowed' });
    expect(served).toHaveLength(0);
  });
});

describe('the client side refuses a next hop that answers garbage', () => {
  const tmp = tempDir('nsm-guard-client-');
  let server: grpc.Server;
  let conn: NsmConnection;
  let me: TestIdentity;
  let srvId: TestIdentity;
  beforeAll(async () => {
    [me, srvId] = await Promise.all([testIdentity('client'), testIdentity('hostile-endpoint')]);
    // A hostile "endpoint": answers every Request with a million empty labels.
    server = new grpc.Server();
    server.addService(
      { request: { path: '/networkservice.NetworkService/Request', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
      { request: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.alloc(2 * 1_000_000, Buffer.from([0x2a, 0x00]))) },
    );
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${tmp.dir}/h.sock`, spiffeServerCredentials(srvId.source), (e) => (e ? reject(e) : resolve())));
    conn = new NsmConnection(`unix://${tmp.dir}/h.sock`, me.source);
  });
  afterAll(async () => {
    conn.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    tmp.cleanup();
  });

  test('a monitor event keeps its well-formed connections only', async () => {
    const events: ConnectionEvent[] = [];
    const good = Connection.fromPartial({ id: 'good', networkService: 's' });
    const bad = Connection.fromPartial({ id: 'bad', networkService: 's', mechanism: { cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'a\nb' } } });
    const monitor = { serve: async (_ctx: Context, _sel: MonitorScopeSelector, send: (ev: ConnectionEvent) => Promise<void>) => send({ type: 0, connections: { good, bad } }) };
    const srv = await startServer([`unix://${tmp.dir}/m.sock`], [monitorRegistration(monitor)], { source: srvId.source });
    const mc = new NsmConnection(srv.urls[0], me.source);
    try {
      await monitorStream(Context.background().withTimeout(5000).ctx, mc, MonitorScopeSelector.fromPartial({}), (ev) => void events.push(ev)).catch(() => undefined);
      expect(events.map((e) => Object.keys(e.connections))).toEqual([['good']]);
    } finally {
      mc.close();
      await srv.stop(200);
    }
  });

  test('RESOURCE_EXHAUSTED, naming the reply', async () => {
    const err = await rpcRequest(Context.background().withTimeout(5000).ctx, conn, NetworkServiceRequest.fromPartial({ connection: { id: 'a', networkService: 's' } })).catch((e) => e);
    expect({ code: err.code, message: err.message }).toEqual({ code: Code.RESOURCE_EXHAUSTED, message: 'the reply of the next hop is refused: the reply has more than 32768 fields' });
  });
});
