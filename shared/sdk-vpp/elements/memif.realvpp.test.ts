// MEMIF on real VPP 25.02 (root): the forwarder's VPP on a node, and a second VPP instance playing
// the memif app in a pod. Server side: the client asked for MEMIF, the forwarder answers with a socket
// file where its VPP is master, the app connects as slave and reaches a kernel endpoint through the
// cross-connect. Client side: the endpoint is the app (master on its own socket), the forwarder joins
// as slave and a kernel client reaches it. Pings both ways; after Close the forwarder's VPP holds what
// it held before and the socket folder is gone.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import type { Netns } from '@nsm/sdk-kernel/netns';
import { ensureHostDeps, TestNetnsSet } from '@nsm/sdk-kernel/testhost';
import { MEMIF_MODE_ETHERNET, MEMIF_MODE_IP, MEMIF_ROLE_MASTER, MEMIF_ROLE_SLAVE, VppApi } from '../api';
import { clientConnection, endpoint, forwarderChain, kernelEndpoint, linkNames, ping, VppTestNode, vppState } from '../testing/realmesh';
import { describeWithVpp, VppInstance } from '../testing/realvpp';

/** The app's end of a memif: socket, interface, address (and a route for IP mode), up. */
async function appMemif(api: VppApi, path: string, role: number, ip: boolean, addr: string, peer: string): Promise<{ sw: number; remove(): Promise<void> }> {
  const socketId = await api.memifSocketAdd(path);
  const sw = await api.memifCreate({ role, mode: ip ? MEMIF_MODE_IP : MEMIF_MODE_ETHERNET, socketId, id: 0 });
  await api.interfaceAddress(sw, addr, true);
  await api.setInterfaceState(sw, true);
  if (ip) await api.ipRoute({ prefix: `${peer}/32`, paths: [{ swIfIndex: sw, nextHop: peer }] }, true);
  return {
    sw,
    async remove() {
      if (ip) await api.ipRoute({ prefix: `${peer}/32`, paths: [{ swIfIndex: sw, nextHop: peer }] }, false);
      await api.memifDelete(sw);
      await api.memifSocketDelete(socketId);
    },
  };
}

async function linkUp(api: VppApi, sw: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await api.memifDump()).find((m) => m.swIfIndex === sw)?.linkUp) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`memif ${sw} did not come up`);
}

describeWithVpp('memif on a real VPP, a second VPP as the app', () => {
  const nets = new TestNetnsSet();
  let tmp = '';
  let node: VppTestNode;
  let app: VppInstance;
  let pod: Netns;

  beforeAll(async () => {
    await ensureHostDeps();
    tmp = mkdtempSync('/tmp/nsmmemif-');
    node = await VppTestNode.start(nets, 'node');
    app = await VppInstance.start({ name: 'app', netns: await nets.add('app') });
    pod = await nets.add('pod');
  }, 600_000);

  afterAll(async () => {
    await app?.stop();
    await node?.stop();
    await nets.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.each([Payload.ETHERNET, Payload.IP])('server side, %s payload: the app connects to the socket the forwarder answers with', async (payload) => {
    const ip = payload === Payload.IP;
    const [appAddr, podAddr] = ip ? ['172.16.31.101', '172.16.31.100'] : ['172.16.30.101', '172.16.30.100'];
    const before = await vppState(node.vpp.api);
    const links = await linkNames(node.netns);
    const h = forwarderChain(node, kernelEndpoint(pod, 'nse-1'), { memifDir: join(tmp, 'fwd') });
    const c: Connection = {
      ...clientConnection(`ms-${payload}`, pod, payload, [`${appAddr}/${ip ? 32 : 24}`], [`${podAddr}/${ip ? 32 : 24}`]),
      mechanism: { cls: MechanismClass.LOCAL, type: MechanismType.MEMIF, parameters: {} },
    };
    const conn = await h.request(Context.background(), { connection: c, mechanismPreferences: [] });
    const socket = new URL(conn.mechanism!.parameters[Param.inodeURL]).pathname;
    expect(socket).toBe(join(tmp, 'fwd', conn.id, 'memif.socket'));
    expect((await node.vpp.api.memifDump()).map((m) => m.role)).toEqual([MEMIF_ROLE_MASTER]);
    const end = await appMemif(app.api, socket, MEMIF_ROLE_SLAVE, ip, `${appAddr}/${ip ? 32 : 24}`, podAddr);
    try {
      await linkUp(app.api, end.sw);
      expect(await app.cli('ping', podAddr, 'repeat', '3')).toMatch(/3 sent, [23] received/);
      await ping(pod, appAddr);
    } finally {
      await h.close(Context.background(), conn);
      await end.remove();
    }
    expect(await vppState(node.vpp.api)).toEqual(before);
    expect(await linkNames(node.netns)).toEqual(links);
    expect(existsSync(join(tmp, 'fwd', conn.id))).toBe(false);
  });

  it('client side: the forwarder joins the endpoint app as slave; a kernel client reaches it', async () => {
    const before = await vppState(node.vpp.api);
    const socket = join(tmp, 'nse.sock');
    const end = await appMemif(app.api, socket, MEMIF_ROLE_MASTER, false, '172.16.32.100/24', '172.16.32.101');
    const h = forwarderChain(node, endpoint(MechanismType.MEMIF, { [Param.inodeURL]: `file://${socket}` }), { memifDir: join(tmp, 'fwd') });
    const conn = await h.request(Context.background(), { connection: clientConnection('mc1', pod, Payload.ETHERNET, ['172.16.32.101/24'], ['172.16.32.100/24']), mechanismPreferences: [] });
    try {
      expect((await node.vpp.api.memifDump()).map((m) => m.role)).toEqual([MEMIF_ROLE_SLAVE]);
      await linkUp(app.api, end.sw);
      await ping(pod, '172.16.32.100');
      expect(await app.cli('ping', '172.16.32.101', 'repeat', '3')).toMatch(/3 sent, [23] received/);
    } finally {
      await h.close(Context.background(), conn);
      await end.remove();
    }
    expect(await vppState(node.vpp.api)).toEqual(before);
  });

  it('refuses a MEMIF socket that is not a file:// path, before touching VPP', async () => {
    const before = await vppState(node.vpp.api);
    const h = forwarderChain(node, endpoint(MechanismType.MEMIF, { [Param.inodeURL]: 'inode://4/4026532' }), { memifDir: join(tmp, 'fwd') });
    await expect(h.request(Context.background(), { connection: clientConnection('mc2', pod, Payload.ETHERNET, ['172.16.33.101/24'], ['172.16.33.100/24']), mechanismPreferences: [] })).rejects.toThrow(/must be a file:\/\/ URL/);
    expect(await vppState(node.vpp.api)).toEqual(before);
  });
});
