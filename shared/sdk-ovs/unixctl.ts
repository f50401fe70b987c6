// ovs-vswitchd's control socket (what ovs-appctl talks to), spoken directly: JSON-RPC 1.0 with the
// same framing as OVSDB, one request, one reply. Used for `revalidator/wait`: after a rule that many
// connections share changes its actions (the VLAN breakout's rule from the uplink), the OpenFlow
// barrier confirms the rule table, but the datapath's cached flows follow only when the revalidators
// have run; a frame in between still takes the old output (seen: the first ARP reply to a new VLAN
// member lost, then the kernel's one-second retry). Waiting for them closes that window.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonRpcSession } from './ovsdb/jsonrpc';

/**
 * The control socket of the ovs-vswitchd of `runDir`: `ovs-vswitchd.ctl` where it was started with
 * `--unixctl` there (ours), else OVS's default name `ovs-vswitchd.<pid>.ctl` (a host's own OVS).
 */
export function vswitchdControlSocket(runDir: string): string {
  const plain = join(runDir, 'ovs-vswitchd.ctl');
  if (existsSync(plain)) return plain;
  try {
    const pid = Number(readFileSync(join(runDir, 'ovs-vswitchd.pid'), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) return join(runDir, `ovs-vswitchd.${pid}.ctl`);
  } catch {
    // no pid file: the plain name, which then fails with a clear UNAVAILABLE
  }
  return plain;
}

/** One kept connection to a unixctl socket, opened on first use and again after it ended. */
export class Unixctl {
  private session?: Promise<JsonRpcSession>;

  constructor(
    readonly socketPath: () => string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Runs a command (e.g. "revalidator/wait"); resolves with its text output. */
  async call(method: string, params: readonly string[] = []): Promise<string> {
    const s = await this.connect();
    try {
      return String((await s.call(method, [...params], this.timeoutMs)) ?? '');
    } catch (e) {
      if (s.isClosed) this.session = undefined;
      throw e;
    }
  }

  close(): void {
    void this.session?.then((s) => s.close()).catch(() => undefined);
    this.session = undefined;
  }

  private async connect(): Promise<JsonRpcSession> {
    const existing = this.session && (await this.session.catch(() => undefined));
    if (existing && !existing.isClosed) return existing;
    const path = this.socketPath();
    this.session = JsonRpcSession.connect(path, { label: `ovs-vswitchd control socket ${path}`, peer: 'ovs-vswitchd', probeIntervalMs: 0, onNotification: () => undefined, onClose: () => undefined }, this.timeoutMs);
    return this.session;
  }
}
