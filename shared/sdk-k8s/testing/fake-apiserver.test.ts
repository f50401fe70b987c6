// The fake API server at the HTTP level, so that the store tests rest on the real protocol.
import { request } from 'node:http';
import { FakeApiServer } from './fake-apiserver';

const BASE = '/apis/networkservicemesh.io/v1';
const nsePath = (ns: string, name = '') => `${BASE}/namespaces/${ns}/networkserviceendpoints${name ? `/${name}` : ''}`;
const cr = (name: string, extra: object = {}) => ({
  apiVersion: 'networkservicemesh.io/v1',
  kind: 'NetworkServiceEndpoint',
  metadata: { name },
  spec: { url: 'tcp://1.2.3.4:5001' },
  ...extra,
});

describe('FakeApiServer', () => {
  let srv: FakeApiServer;
  beforeEach(async () => {
    srv = await FakeApiServer.start({ historyLimit: 2 });
  });
  afterEach(() => srv.close());

  const call = async (method: string, path: string, body?: unknown): Promise<{ code: number; body: any }> => {
    const res = await fetch(srv.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    return { code: res.status, body: await res.json() };
  };

  /** Reads a watch stream until it ends or `n` events came. */
  const watchLines = (path: string, n: number) =>
    new Promise<{ code: number; events: any[] }>((resolve, reject) => {
      const req = request(srv.url + path, (res) => {
        let buf = '';
        const events: unknown[] = [];
        const done = () => {
          req.destroy();
          resolve({ code: res.statusCode ?? 0, events });
        };
        res.on('data', (c) => {
          buf += c;
          for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) events.push(JSON.parse(buf.slice(0, i)));
          if (events.length >= n) done();
        });
        res.on('end', done);
      });
      req.on('error', reject);
      req.end();
    });

  it('creates, reads, lists, updates and deletes with resourceVersions', async () => {
    const created = await call('POST', nsePath('a'), cr('x'));
    expect(created.code).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'x', namespace: 'a', generation: 1, resourceVersion: expect.stringMatching(/^\d+$/) });
    const list = await call('GET', nsePath('a'));
    expect(list.body).toMatchObject({ kind: 'NetworkServiceEndpointList', metadata: { resourceVersion: created.body.metadata.resourceVersion } });
    expect(list.body.items).toHaveLength(1);
    expect((await call('GET', `${BASE}/networkserviceendpoints`)).body.items).toHaveLength(1);
    expect((await call('GET', nsePath('b'))).body.items).toHaveLength(0);
    const updated = await call('PUT', nsePath('a', 'x'), { ...created.body, spec: { url: 'tcp://5.6.7.8:1' } });
    expect(updated.code).toBe(200);
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.body.metadata.resourceVersion));
    expect(updated.body.metadata.generation).toBe(2);
    const noop = await call('PUT', nsePath('a', 'x'), updated.body);
    expect(noop.body.metadata.resourceVersion).toBe(updated.body.metadata.resourceVersion);
    expect((await call('DELETE', nsePath('a', 'x'))).body).toMatchObject({ kind: 'Status', status: 'Success' });
    expect((await call('GET', nsePath('a', 'x'))).body).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound' });
  });

  it('answers failures with Status objects', async () => {
    const first = await call('POST', nsePath('a'), cr('x'));
    expect(await call('POST', nsePath('a'), cr('x'))).toMatchObject({ code: 409, body: { kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409 } });
    await call('PUT', nsePath('a', 'x'), { ...first.body, spec: {} });
    expect(await call('PUT', nsePath('a', 'x'), first.body)).toMatchObject({ code: 409, body: { reason: 'Conflict' } });
    expect(await call('PUT', nsePath('a', 'x'), cr('x'))).toMatchObject({ code: 422, body: { reason: 'Invalid' } });
    expect(await call('PUT', nsePath('a', 'y'), cr('y', { metadata: { name: 'y', resourceVersion: '1' } }))).toMatchObject({ code: 404 });
    expect(await call('POST', nsePath('a'), cr('Bad_Name'))).toMatchObject({ code: 422, body: { reason: 'Invalid' } });
    expect(await call('POST', nsePath('a'), { ...cr('z'), kind: 'Pod' })).toMatchObject({ code: 400, body: { reason: 'BadRequest' } });
    expect(await call('GET', `${BASE}/namespaces/a/pods`)).toMatchObject({ code: 404, body: { reason: 'NotFound' } });
  });

  it('generates names from generateName', async () => {
    const { body } = await call('POST', nsePath('a'), cr('', { metadata: { generateName: 'nse-' } }));
    expect(body.metadata.name).toMatch(/^nse-[a-z0-9]{5}$/);
  });

  it('streams watch events from a resourceVersion and answers an expired one with a 410 ERROR event', async () => {
    const { body } = await call('POST', nsePath('a'), cr('x'));
    const rv = body.metadata.resourceVersion;
    const live = watchLines(`${nsePath('a')}?watch=true&resourceVersion=${rv}`, 3);
    await new Promise((r) => setTimeout(r, 50));
    await call('POST', nsePath('b'), cr('other')); // another namespace: not seen
    const again = await call('PUT', nsePath('a', 'x'), { ...body, spec: {} });
    await call('DELETE', nsePath('a', 'x'));
    await call('POST', nsePath('a'), cr('y'));
    const { events } = await live;
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['MODIFIED x', 'DELETED x', 'ADDED y']);
    expect(events[0].object.metadata.resourceVersion).toBe(again.body.metadata.resourceVersion);
    // History holds 2 events now; the first version is gone.
    const old = await watchLines(`${nsePath('a')}?watch=true&resourceVersion=${rv}`, 5);
    expect(old.code).toBe(200);
    expect(old.events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
    // Without a version the current state comes as ADDED events.
    const fresh = await watchLines(`${nsePath('a')}?watch=true`, 1);
    expect(fresh.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED y']);
  });
});
