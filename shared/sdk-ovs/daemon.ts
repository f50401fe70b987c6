// A private Open vSwitch instance: ovsdb-server + ovs-vswitchd with their own database, sockets,
// pid files and logs in one run directory, optionally inside a network namespace.
//
// Why our own: our hosts have no openvswitch kernel module (bridges use the userspace `netdev`
// datapath) and every forwarder, possibly several per host in different namespaces, needs its own
// switch. OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR point at the run directory so nothing touches the
// system-wide /var/run/openvswitch. Children are started without --detach, in their own process
// group, with stdio to files, so they outlive a crashed or restarted forwarder: the next start()
// with the same run directory adopts them (flows and ports intact) instead of starting anew.
//
// One instance per network namespace: the netdev datapath creates tap devices named `ovs-netdev` and
// after each bridge in the namespace where ovs-vswitchd runs.
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deadlineExceeded, invalidArgument, unavailable } from '@nsm/sdk/core/errors';
import { exec } from '@nsm/sdk-kernel/exec';
import { daemonInNetnsArgv, NetnsRef } from '@nsm/sdk-kernel/netns';
import { Ovs, OvsEndpoint } from './ovs';
import { isAlive, livePidOf, sleep, terminate, waitGone } from './proc';

export const DEFAULT_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface OvsDaemonOptions {
  /** Holds everything; created if missing. Keep it short: unix socket paths are limited to 107 bytes. */
  runDir: string;
  /** Namespace the daemons run in (ovs-vswitchd opens its ports there); default: ours. */
  netns?: NetnsRef;
  schema?: string;
  /** Level for the log files in runDir (ovsdb-server.log, ovs-vswitchd.log). Default "info". */
  logLevel?: 'emer' | 'err' | 'warn' | 'info' | 'dbg';
  /** Reuse daemons found alive through the pid files in runDir (default true). */
  adopt?: boolean;
  startTimeoutMs?: number;
}

/** Marks a run directory that start() created, so stop() may remove it whole. */
const MARKER = '.nsm-ovs-rundir';

function paths(runDir: string) {
  return {
    db: join(runDir, 'conf.db'),
    dbSock: join(runDir, 'db.sock'),
    dbPid: join(runDir, 'ovsdb-server.pid'),
    dbCtl: join(runDir, 'ovsdb-server.ctl'),
    dbLog: join(runDir, 'ovsdb-server.log'),
    dbErr: join(runDir, 'ovsdb-server.stderr'),
    vsPid: join(runDir, 'ovs-vswitchd.pid'),
    vsCtl: join(runDir, 'ovs-vswitchd.ctl'),
    vsLog: join(runDir, 'ovs-vswitchd.log'),
    vsErr: join(runDir, 'ovs-vswitchd.stderr'),
  };
}

export class OvsDaemon {
  /** Client for this instance. */
  readonly ovs: Ovs;

  private constructor(
    readonly runDir: string,
    readonly dbSocket: string,
    /** False for an instance we only connect to (existing()): stop() leaves it alone. */
    readonly owned: boolean,
    /** True when start() found the daemons of a predecessor running and kept them. */
    readonly adopted: boolean,
  ) {
    this.ovs = new Ovs({ dbSocket, runDir });
  }

  /** An OVS someone else runs, e.g. the host's: { dbSocket: '/var/run/openvswitch/db.sock', runDir: '/var/run/openvswitch' }. */
  static existing(endpoint: OvsEndpoint): OvsDaemon {
    return new OvsDaemon(endpoint.runDir, endpoint.dbSocket, false, false);
  }

  static async start(opts: OvsDaemonOptions): Promise<OvsDaemon> {
    const runDir = resolve(opts.runDir);
    const p = paths(runDir);
    if (Buffer.byteLength(join(runDir, 'ovs-vswitchd.ctl')) > 90) {
      throw invalidArgument(`OVS run directory ${runDir} is too long for unix socket paths`);
    }
    if (!existsSync(runDir)) {
      mkdirSync(runDir, { recursive: true, mode: 0o750 });
      writeFileSync(join(runDir, MARKER), '');
    }

    const liveDb = livePidOf(p.dbPid, 'ovsdb-server');
    const liveVs = livePidOf(p.vsPid, 'ovs-vswitchd');
    if ((opts.adopt ?? true) && liveDb && liveVs) {
      const d = new OvsDaemon(runDir, p.dbSock, true, true);
      try {
        await exec(['ovs-appctl', '-t', p.vsCtl, 'version'], { timeoutMs: 3000 });
        await d.ovs.vsctl(['show'], { noWait: true, timeoutSec: 3 });
        return d;
      } catch {
        // Alive but not answering: replace them below.
      }
    }
    // Leftovers of a predecessor: stop its processes; keep conf.db, which holds its bridges and ports.
    for (const pid of [liveVs, liveDb]) if (pid) await terminate(pid);
    for (const f of [p.dbSock, p.dbPid, p.dbCtl, p.vsPid, p.vsCtl, join(runDir, '.conf.db.~lock~')]) rmSync(f, { force: true });
    for (const f of readdirSync(runDir)) if (/\.(mgmt|snoop)$/.test(f)) rmSync(join(runDir, f), { force: true });

    const d = new OvsDaemon(runDir, p.dbSock, true, false);
    const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
    const level = opts.logLevel ?? 'info';
    const env = { OVS_RUNDIR: runDir, OVS_DBDIR: runDir, OVS_LOGDIR: runDir };
    const spawned: Spawned[] = [];
    try {
      if (!existsSync(p.db)) await exec(['ovsdb-tool', 'create', p.db, opts.schema ?? DEFAULT_SCHEMA]);
      const common = ['--no-chdir', '-vconsole:off', `-vfile:${level}`];

      const db = spawnDaemon(
        daemonInNetnsArgv(opts.netns, ['ovsdb-server', p.db, `--remote=punix:${p.dbSock}`, `--pidfile=${p.dbPid}`, `--unixctl=${p.dbCtl}`, `--log-file=${p.dbLog}`, ...common]),
        p.dbErr,
        env,
      );
      spawned.push(db);
      // Ready when it answers a transaction; `init` also creates the root Open_vSwitch row.
      await until(deadline, db, 'ovsdb-server', p.dbErr, p.dbLog, () => d.ovs.vsctl(['init'], { noWait: true, timeoutSec: 2 }));

      const vs = spawnDaemon(
        daemonInNetnsArgv(opts.netns, ['ovs-vswitchd', `unix:${p.dbSock}`, `--pidfile=${p.vsPid}`, `--unixctl=${p.vsCtl}`, `--log-file=${p.vsLog}`, ...common]),
        p.vsErr,
        env,
      );
      spawned.push(vs);
      await until(deadline, vs, 'ovs-vswitchd', p.vsErr, p.vsLog, () => exec(['ovs-appctl', '-t', p.vsCtl, 'version'], { timeoutMs: 2000 }));
      return d;
    } catch (e) {
      // By pid, not pid file: a daemon that failed early may not have written one.
      for (const c of spawned.reverse()) if (c.child.pid) await terminate(c.child.pid);
      await d.stop().catch(() => undefined);
      throw e;
    }
  }

  /** Both daemons are running (false for an existing() instance we do not manage). */
  alive(): boolean {
    const p = paths(this.runDir);
    return this.owned && livePidOf(p.dbPid, 'ovsdb-server') !== undefined && livePidOf(p.vsPid, 'ovs-vswitchd') !== undefined;
  }

  pids(): { ovsdbServer?: number; ovsVswitchd?: number } {
    const p = paths(this.runDir);
    return { ovsdbServer: livePidOf(p.dbPid, 'ovsdb-server'), ovsVswitchd: livePidOf(p.vsPid, 'ovs-vswitchd') };
  }

  /**
   * Stops both daemons and removes every file they and we made. `exit --cleanup` makes ovs-vswitchd
   * delete its datapath devices (the bridge and ovs-netdev taps), which a plain SIGTERM leaves behind.
   */
  async stop(): Promise<void> {
    if (!this.owned) return;
    const p = paths(this.runDir);
    const vs = livePidOf(p.vsPid, 'ovs-vswitchd');
    if (vs) {
      await exec(['ovs-appctl', '-t', p.vsCtl, 'exit', '--cleanup'], { timeoutMs: 5000 }).catch(() => undefined);
      if (!(await waitGone(vs, 5000))) await terminate(vs);
    }
    const db = livePidOf(p.dbPid, 'ovsdb-server');
    if (db) {
      await exec(['ovs-appctl', '-t', p.dbCtl, 'exit'], { timeoutMs: 5000 }).catch(() => undefined);
      if (!(await waitGone(db, 5000))) await terminate(db);
    }
    removeRunDir(this.runDir);
  }
}

interface Spawned {
  child: ChildProcess;
  /** Set when the program could not be started at all (e.g. not installed). */
  error?: Error;
}

function spawnDaemon(argv: string[], stderrFile: string, env: Record<string, string>): Spawned {
  const errFd = openSync(stderrFile, 'a');
  try {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', errFd, errFd],
      env: { ...process.env, ...env },
      // Own process group: a signal to the forwarder's group (Ctrl-C, a supervisor) does not take OVS down.
      detached: true,
    });
    const s: Spawned = { child };
    child.on('error', (e) => (s.error = e));
    // Do not keep the caller's event loop alive for the daemon.
    child.unref();
    return s;
  } finally {
    closeSync(errFd);
  }
}

/** Retries `probe` until it succeeds; fails early with the daemon's own words if it exits. */
async function until(
  deadline: number,
  spawned: Spawned,
  name: string,
  errFile: string,
  logFile: string,
  probe: () => Promise<unknown>,
): Promise<void> {
  const { child } = spawned;
  let last: unknown;
  for (;;) {
    if (spawned.error) throw unavailable(`${name} could not be started: ${spawned.error.message}`);
    if (child.exitCode !== null || child.signalCode !== null || (child.pid !== undefined && !isAlive(child.pid))) {
      throw unavailable(`${name} exited during start-up: ${tail(errFile)} ${tail(logFile)}`.trim());
    }
    try {
      await probe();
      return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw deadlineExceeded(`${name} not ready in time: ${(last as Error)?.message ?? ''}`);
    await sleep(25);
  }
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

const OWN_FILES = /^(conf\.db|\.conf\.db\.~lock~|db\.sock|ovsdb-server\.(pid|ctl|log|stderr)|ovs-vswitchd\.(pid|ctl|log|stderr)|.*\.(mgmt|snoop))$/;

/** The whole directory if start() created it, otherwise only the files OVS and we put there. */
function removeRunDir(runDir: string): void {
  if (existsSync(join(runDir, MARKER))) {
    rmSync(runDir, { recursive: true, force: true });
    return;
  }
  let names: string[] = [];
  try {
    names = readdirSync(runDir);
  } catch {
    return;
  }
  for (const n of names) if (OWN_FILES.test(n)) rmSync(join(runDir, n), { force: true });
}
