// Issue 12 end to end, security on as by default: a local mesh whose components and pods have SPIFFE
// identities from the runtime's provider, with SVIDs of a few seconds so that they rotate during the
// test. A client with a valid SVID connects through nsmgr, forwarder and NSE and keeps pinging across
// rotations; requests without an SVID, with a foreign trust domain's, or with a forged, expired,
// unchained or unsigned token are refused and nothing is made; a second NSE cannot take over the
// first's registration; MonitorConnections shows each caller only its own connections.
import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { Code } from '@nsm/sdk/core/errors';
import { findAll } from '@nsm/sdk/core/registry';
import { nseRegistryClient } from '@nsm/sdk/grpc/registry';
import { actAsConnections, actAsRequest, SvidKind, TokenKind } from '../../local/actas';
import { createNetns, deleteNetns } from '../../local/host';
import { e2eUnavailable, eventually, inNs, nsc, nse, TestMesh } from './harness';

const skip = e2eUnavailable();
const d = skip ? describe.skip : describe;
if (skip) test.skip(`security e2e skipped: ${skip}`, () => undefined);

jest.setTimeout(240_000);

d('security on a local mesh (SVIDs of 12 s)', () => {
  const t = new TestMesh(`sec${process.pid % 10000}`);
  const identities = () => t.mesh.status().identities;
  const ctx = () => Context.background().withTimeout(15_000).ctx;

  beforeAll(async () => {
    await t.down().catch(() => undefined);
    await t.up({ nodes: [{ name: 'node1', forwarder: 'ovs', env: {} }], svidLifetimeMs: 12_000 });
    await t.pods(
      nse('nse-a', { NSM_SERVICE_NAMES: 'icmp-responder', NSM_CIDR_PREFIX: '172.16.1.0/29' }),
      nse('nse-b', { NSM_SERVICE_NAMES: 'other-service', NSM_CIDR_PREFIX: '172.16.2.0/29' }),
      nsc('nsc-1', { NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1' }),
      nsc('nsc-2', { NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1' }),
    );
    await createNetns(t.ns('intruder'));
    await t.mesh.workload('intruder');
    for (const c of ['nsc-1', 'nsc-2']) await eventually(`nsm-1 in ${c}`, () => inNs(t.ns(c), ['ip', '-4', 'addr', 'show', 'dev', 'nsm-1']).includes('inet 172.16.1.'));
  });

  afterAll(async () => {
    await deleteNetns(t.ns('intruder')).catch(() => undefined);
    await t.down();
  });

  const peerOf = (c: string) => inNs(t.ns(c), ['ip', '-4', '-o', 'route', 'show', 'dev', 'nsm-1']).split(/\s+/)[0];

  test('every pod and component has its own SPIFFE ID and Workload API socket; the clients ping through the mesh', () => {
    const ids = Object.fromEntries(identities().map((i) => [i.name, i]));
    expect(ids['nsc-1'].spiffeId).toBe('spiffe://nsm.local/ns/default/pod/nsc-1');
    expect(ids['nsmgr-node1'].spiffeId).toBe('spiffe://nsm.local/ns/nsm-system/pod/nsmgr-node1');
    expect(ids['forwarder-node1'].workloadApiSocket).toBe(`${t.paths.root}/spire/forwarder-node1/agent.sock`);
    for (const c of ['nsc-1', 'nsc-2']) inNs(t.ns(c), ['ping', '-c', '2', '-W', '2', peerOf(c)]);
  });

  test('SVIDs rotating every 6 s under the live connections: pings keep answering', async () => {
    const before = identities().find((i) => i.name === 'nsc-1')!.svidExpires;
    const end = Date.now() + 25_000;
    let pings = 0;
    while (Date.now() < end) {
      inNs(t.ns('nsc-1'), ['ping', '-c', '1', '-W', '2', peerOf('nsc-1')]);
      pings++;
      await new Promise((r) => setTimeout(r, 500));
    }
    const after = identities().find((i) => i.name === 'nsc-1')!.svidExpires;
    expect(pings).toBeGreaterThan(10);
    // At least three rotations of every SVID happened meanwhile.
    expect(Date.parse(after!) - Date.parse(before!)).toBeGreaterThanOrEqual(18_000);
  });

  describe('refused requests make nothing', () => {
    const snapshot = () => ({ flows: t.ovsFlows().length, ports: t.ovsPorts().length, node: t.links('node1').length, intruder: t.links('intruder'), nse: t.links('nse-a').length });
    test.each<[string, SvidKind, TokenKind, Code, RegExp]>([
      ['no SVID (plaintext)', 'none', 'valid', Code.UNAVAILABLE, /./],
      ['an SVID of a foreign trust domain', 'foreign', 'valid', Code.PERMISSION_DENIED, /trust domain evil.example is not trusted/],
      ['a forged token', 'pod', 'forged', Code.PERMISSION_DENIED, /policy prev_token_signed/],
      ['an expired token', 'pod', 'expired', Code.PERMISSION_DENIED, /policy tokens_expired/],
      ['an unchained token', 'pod', 'unchained', Code.PERMISSION_DENIED, /policy tokens_chained/],
      ['an unsigned token', 'pod', 'unsigned', Code.PERMISSION_DENIED, /policy prev_token_signed/],
    ])('%s', async (_n, svid, token, code, message) => {
      const before = snapshot();
      const out = await actAsRequest(t.paths, identities(), { as: 'intruder', node: 'node1', svid, token, foreignTrustDomain: 'evil.example', service: 'icmp-responder' });
      expect(out).toMatchObject({ granted: false, code: Code[code], message: expect.stringMatching(message) });
      expect(snapshot()).toEqual(before);
      expect(before.intruder).toEqual([]);
    });

    test('the same intruder with a valid SVID and token is served (the refusals were about identity), and closes again', async () => {
      const out = await actAsRequest(t.paths, identities(), { as: 'intruder', node: 'node1', svid: 'pod', token: 'valid', foreignTrustDomain: 'evil.example', service: 'icmp-responder' });
      expect(out).toMatchObject({ granted: true, path: ['intruder', 'nsmgr-node1', 'forwarder-node1', 'nse-a'] });
      await eventually('the intruder connection closed', () => t.links('intruder').length === 0);
    });
  });

  test('a second NSE cannot unregister or overwrite the first, at its nsmgr or at the central registry', async () => {
    const b = await t.mesh.workload('nse-b');
    const viaNsmgr = nseRegistryClient(`unix://${t.paths.nsmSocket('node1')}`, b.source);
    const central = nseRegistryClient(`unix://${t.paths.root}/registry.sock`, b.source);
    const denied = expect.objectContaining({ code: Code.PERMISSION_DENIED, message: expect.stringMatching(/belongs to spiffe:\/\/nsm.local\/ns\/default\/pod\/nse-a/) });
    try {
      const byName = NetworkServiceEndpoint.fromPartial({ name: 'nse-a' });
      await expect(viaNsmgr.unregister(ctx(), byName)).rejects.toEqual(denied);
      await expect(viaNsmgr.register(ctx(), { ...byName, networkServiceNames: ['icmp-responder'], url: 'unix:///tmp/evil.sock' })).rejects.toEqual(denied);
      await expect(central.unregister(ctx(), byName)).rejects.toEqual(denied);
      const [found] = await findAll(central, ctx(), byName);
      expect(found.item.pathIds).toEqual(['spiffe://nsm.local/ns/default/pod/nse-a', 'spiffe://nsm.local/ns/nsm-system/pod/nsmgr-node1']);
    } finally {
      viaNsmgr.close();
      central.close();
    }
    inNs(t.ns('nsc-1'), ['ping', '-c', '1', '-W', '2', peerOf('nsc-1')]);
  });

  test('MonitorConnections shows each caller only the connections whose path holds its identity', async () => {
    const first = (await actAsConnections(t.paths, identities(), 'nsc-1', 'node1')).map((c) => c.path[0].name);
    const second = (await actAsConnections(t.paths, identities(), 'nsc-2', 'node1')).map((c) => c.path[0].name);
    expect(first).toEqual(['nsc-1']);
    expect(second).toEqual(['nsc-2']);
    expect(await actAsConnections(t.paths, identities(), 'intruder', 'node1')).toEqual([]);
    // The endpoint is on both paths; its tokens name each hop's SPIFFE ID.
    const seen = await actAsConnections(t.paths, identities(), 'nse-a', 'node1');
    expect(seen.map((c) => c.path[0].name).sort()).toEqual(['nsc-1', 'nsc-2']);
    expect(seen[0].path.map((p) => p.sub)).toEqual([
      `spiffe://nsm.local/ns/default/pod/${seen[0].path[0].name}`,
      'spiffe://nsm.local/ns/nsm-system/pod/nsmgr-node1',
      'spiffe://nsm.local/ns/nsm-system/pod/forwarder-node1',
      'spiffe://nsm.local/ns/default/pod/nse-a',
    ]);
  });
});
