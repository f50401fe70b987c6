// The VPP this forwarder drives: started here when NSM_VPP_API_SOCKET is empty (upstream's default:
// VPP lives in the forwarder's container), or an already running one at that socket, waited for while
// it starts (a VPP restarting beside us). Either way, losing it is reported once through `onLost`: the
// forwarder then exits and is restarted, and its successor finds VPP (new or old) and reconciles, so
// no connection is left half-made on a VPP that forgot it.
import { log } from '@nsm/sdk/log';
import { VppApi, VppConnection, VppProcess, waitForApi } from '@nsm/sdk-vpp';
import type { Config } from './config';

export interface VppHandle {
  api: VppApi;
  conn: VppConnection;
  /** Set when this forwarder started VPP. */
  process?: VppProcess;
  socket: string;
  /** Disconnects and stops a VPP this forwarder started; `onLost` is not called for it. */
  close(): Promise<void>;
}

export async function openVpp(cfg: Config, onLost: (why: string) => void): Promise<VppHandle> {
  let vpp: VppProcess | undefined;
  let socket = cfg.vppApiSocket;
  if (!socket) {
    log.info({ bin: cfg.vppBin, runDir: cfg.vppRunDir, config: cfg.vppConfig || '(generated)' }, 'starting VPP (NSM_VPP_API_SOCKET is empty)');
    vpp = await VppProcess.start({
      bin: cfg.vppBin,
      runDir: cfg.vppRunDir,
      config: cfg.vppConfig || undefined,
      mainCore: cfg.vppMainCore >= 0 ? cfg.vppMainCore : undefined,
      heap: cfg.vppHeap || undefined,
      buffers: cfg.vppBuffers,
      plugins: cfg.vppPlugins.length ? cfg.vppPlugins : undefined,
      timeoutMs: cfg.vppTimeout,
    });
    socket = vpp.apiSocket;
    log.info({ pid: vpp.pid, socket, cli: vpp.cliSocket }, 'VPP started');
  } else {
    log.info({ socket }, 'using the VPP at NSM_VPP_API_SOCKET');
    await waitForApi(socket, cfg.vppTimeout);
  }
  let closing = false;
  let lost = false;
  const lose = (why: string) => {
    if (closing || lost) return;
    lost = true;
    onLost(why);
  };
  vpp?.on('exit', (code, signal) => lose(`VPP exited (code ${code}, signal ${signal})`));
  let conn: VppConnection;
  try {
    conn = await VppConnection.connect(socket, { name: cfg.name.slice(0, 63), timeoutMs: cfg.vppTimeout });
  } catch (err) {
    closing = true;
    await vpp?.stop();
    throw err;
  }
  conn.on('close', (err?: Error) => lose(`lost the VPP API connection${err ? `: ${err.message}` : ''}`));
  return {
    api: new VppApi(conn),
    conn,
    process: vpp,
    socket,
    async close() {
      closing = true;
      await conn.close().catch(() => undefined);
      await vpp?.stop();
    },
  };
}
