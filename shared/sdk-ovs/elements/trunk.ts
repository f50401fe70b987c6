// NSE-side VLAN trunking in the forwarder (dataplane.md §4.7): when the endpoint answers the KERNEL
// mechanism with a `vlan`, all its connections share one veth (the trunk) instead of one each; the
// xconnect element tags each connection's frames with its VLAN toward the trunk and untags them back.
// The trunk is not addressed here: the endpoint terminates the VLANs and addresses them itself.
//
// Trunks are shared by (endpoint namespace, interface name) and reference counted; creation and
// removal of one trunk are serialized, so a connection that arrives while the last one is closing
// gets a fresh trunk rather than one being deleted under it.
import { createHash } from 'node:crypto';
import { createVethPair, deleteLink, disableOffloads, hostIfName, Netns } from '@nsm/sdk-kernel';
import { log } from '@nsm/sdk/log';
import { EXT_CONN, EXT_SIDE, once, OvsBridge, PortRecord } from './state';

interface Trunk {
  users: number;
  port?: { name: string; ofport: number };
}

/** external-ids value marking a trunk port (not one connection's). */
export const TRUNK_ID_PREFIX = 'trunk:';

export class TrunkPorts {
  private readonly trunks = new Map<string, Trunk>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly br: OvsBridge) {}

  /** Number of trunks in use (for tests). */
  size(): number {
    return this.trunks.size;
  }

  /** The trunk toward `podName` in `netns` for one more connection, carrying `vlan`. */
  async acquire(netns: Netns, podName: string, vlan: number): Promise<PortRecord> {
    const key = `${netns.label}|${podName}`;
    const port = await this.locked(key, async () => {
      const t = this.trunks.get(key) ?? { users: 0 };
      if (!t.port) t.port = await this.make(key, netns, podName);
      t.users++;
      this.trunks.set(key, t);
      return t.port;
    });
    return { ...port, vlan, release: once(() => this.release(key)) };
  }

  private async make(key: string, netns: Netns, podName: string): Promise<{ name: string; ofport: number }> {
    // Named like the per-connection host ends (tapdst-…), so a restarted forwarder keeps and adopts it.
    const id = `${TRUNK_ID_PREFIX}${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
    const hostName = hostIfName(id, 'dst');
    const pair = await createVethPair({ hostName, peerName: podName, peerNetns: netns });
    if (pair.existed) this.br.adopt?.(hostName);
    try {
      await disableOffloads(netns, podName);
      const ports = await this.br.ovs.addPorts(this.br.bridge, [{ name: hostName, externalIds: { [EXT_CONN]: id, [EXT_SIDE]: 'dst' } }]);
      log.info({ trunk: hostName, endpoint: podName, netns: netns.label }, 'VLAN trunk to the endpoint is up');
      return { name: hostName, ofport: ports[hostName] };
    } catch (err) {
      await deleteLink(undefined, hostName).catch(() => undefined);
      throw err;
    }
  }

  private async release(key: string): Promise<void> {
    await this.locked(key, async () => {
      const t = this.trunks.get(key);
      if (!t) return;
      if (--t.users > 0) return;
      this.trunks.delete(key);
      if (!t.port) return;
      await this.br.ovs.delPorts(this.br.bridge, [t.port.name]).catch((e) => log.warn({ port: t.port!.name, err: String(e) }, 'removing OVS port failed'));
      await deleteLink(undefined, t.port.name);
      log.info({ trunk: t.port.name }, 'VLAN trunk removed: its last connection closed');
    });
  }

  private async locked<T>(key: string, f: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(f, f);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}
