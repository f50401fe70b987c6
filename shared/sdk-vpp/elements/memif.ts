// MEMIF local mechanism in the VPP forwarder (dataplane.md §8): a pod whose app speaks memif (a VPP,
// or anything on libmemif) gets a shared-memory interface instead of a kernel one.
//
// Server half (the client asked for MEMIF): once the rest of the path is up, VPP registers a socket
// file <dir>/<connection id>/memif.socket and creates a memif there as master (mode IP for IP payload,
// Ethernet otherwise, rx-mode adaptive); the file's URL goes back in `inodeURL` for the client to
// connect to as slave. Client half (toward an endpoint that selected MEMIF): VPP connects as slave to
// the socket file the endpoint named. Close deletes the memif, then the socket registration and the
// socket's folder.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { Connection, Mechanism, MechanismClass, MechanismType, Param, Payload } from '@nsm/api';
import { invalidArgument } from '@nsm/sdk/core/errors';
import { clientMeta, serverMeta } from '@nsm/sdk/core/metadata';
import { closeThenRelease, makeOnce, type NetworkServiceElement } from '@nsm/sdk/core/networkservice';
import { MEMIF_MODE_ETHERNET, MEMIF_MODE_IP, MEMIF_ROLE_MASTER, MEMIF_ROLE_SLAVE, RX_MODE_ADAPTIVE } from '../api';
import { connTag, releaseAll } from './common';
import { clientIfKey, serverIfKey, VppDataplane, VppInterfaceRecord } from './state';

export interface MemifOptions {
  /** Folder for the server half's socket files (upstream: <tmpdir>/memif). */
  dir: string;
}

/** sun_path holds 108 bytes, NUL included. */
const MAX_SOCKET_PATH = 107;

/** The socket file a MEMIF mechanism names: a file:// URL with an absolute path VPP can connect to. */
export function memifSocketPath(url: string | undefined): string {
  if (!url) throw invalidArgument(`MEMIF mechanism has no ${Param.inodeURL} parameter`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidArgument(`MEMIF ${Param.inodeURL} "${url}" is not a URL`);
  }
  const path = decodeURIComponent(u.pathname);
  if (u.protocol !== 'file:' || !isAbsolute(path) || u.host) throw invalidArgument(`MEMIF ${Param.inodeURL} "${url}" must be a file:// URL of an absolute path`);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw invalidArgument(`MEMIF socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes`);
  return path;
}

async function memif(dp: VppDataplane, conn: Connection, path: string, role: number, cleanup?: () => void): Promise<VppInterfaceRecord> {
  const { api } = dp;
  const ip = conn.payload === Payload.IP;
  const socketId = await api.memifSocketAdd(path).catch((err) => {
    cleanup?.();
    throw err;
  });
  let sw: number | undefined;
  const rec: VppInterfaceRecord = {
    swIfIndex: -1,
    l3: ip,
    describe: `memif ${role === MEMIF_ROLE_MASTER ? 'master' : 'slave'} ${path}`,
    release: () =>
      releaseAll(rec.describe, [
        async () => sw !== undefined && api.memifDelete(sw),
        () => api.memifSocketDelete(socketId),
        async () => cleanup?.(),
      ]),
  };
  try {
    sw = await api.memifCreate({ role, mode: ip ? MEMIF_MODE_IP : MEMIF_MODE_ETHERNET, socketId, id: 0 });
    rec.swIfIndex = sw;
    await api.tagInterface(sw, connTag(conn.id));
    await api.setRxMode(sw, RX_MODE_ADAPTIVE);
    await api.setInterfaceState(sw, true);
  } catch (err) {
    await rec.release();
    throw err;
  }
  return rec;
}

/** Server half (under the mechanisms switch for MEMIF). */
export function memifServer(dp: VppDataplane, o: MemifOptions): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const out = await next.request(ctx, req);
      return makeOnce(ctx, next, out, serverMeta(ctx), serverIfKey, async () => {
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(out.id)) throw invalidArgument(`connection id "${out.id}" cannot name a memif socket folder`);
        const path = join(o.dir, out.id, 'memif.socket');
        memifSocketPath(`file://${path}`);
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        const rec = await memif(dp, out, path, MEMIF_ROLE_MASTER, () => rmSync(dirname(path), { recursive: true, force: true }));
        out.mechanism!.parameters[Param.inodeURL] = `file://${path}`;
        return rec;
      });
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, serverMeta(ctx).take(serverIfKey));
    },
  };
}

/** Client half: offers MEMIF; joins the endpoint's socket as slave when the endpoint selected it. */
export function memifClient(dp: VppDataplane): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      if (!req.mechanismPreferences.some((m) => m.type === MechanismType.MEMIF)) {
        req.mechanismPreferences.push(Mechanism.fromPartial({ cls: MechanismClass.LOCAL, type: MechanismType.MEMIF, parameters: {} }));
      }
      const out = await next.request(ctx, req);
      if (out.mechanism?.type !== MechanismType.MEMIF) return out;
      const url = out.mechanism.parameters[Param.inodeURL];
      return makeOnce(ctx, next, out, clientMeta(ctx), clientIfKey, () => memif(dp, out, memifSocketPath(url), MEMIF_ROLE_SLAVE));
    },
    async close(ctx, conn, next) {
      await closeThenRelease(ctx, next, conn, clientMeta(ctx).take(clientIfKey));
    },
  };
}
