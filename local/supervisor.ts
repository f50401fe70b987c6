// Runs each component as a process inside its network namespace and restarts it when it dies as a
// kubelet does by its restartPolicy (Always, the default; OnFailure; Never: an exited process stays
// exited, and its exit code says whether the pod Succeeded or Failed). A process group stands in for a
// container: when the main process dies or is killed, whatever it started (ovsdb-server, wireguard-go)
// dies with it.
import { spawn, ChildProcess } from 'node:child_process';
import { openSync, closeSync, mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { ContainerCgroup, removeGroup } from './cgroup';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface ProcessSpec {
  name: string;
  netns: string;
  argv: string[];
  env: Record<string, string>;
  logFile: string;
  restartPolicy?: RestartPolicy;
  /** Told of every start and exit (with whether a restart follows), for the pod's status. */
  onStart?: (pid: number | undefined) => void;
  onExit?: (exit: ProcessExit) => void;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  restarting: boolean;
  /** Stopped through stop() (a deleted pod), not by itself. */
  stopped: boolean;
}

interface Running {
  spec: ProcessSpec;
  cgroup?: ContainerCgroup;
  child?: ChildProcess;
  restarts: number;
  /** Killed through the API (a deleted pod that its DaemonSet replaces): no crash-loop backoff. */
  killed?: boolean;
  startedAt: number;
  stopping: boolean;
  exitCode?: number | null;
  exited?: Promise<void>;
  timer?: NodeJS.Timeout;
}

export interface ProcessStatus {
  name: string;
  netns: string;
  pid?: number;
  restarts: number;
  running: boolean;
  /** Set once a process that is not restarted has exited. */
  exitCode?: number | null;
}

const osSignals = constants.signals as Record<string, number>;

const killGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
};

export class Supervisor {
  private readonly procs = new Map<string, Running>();

  constructor(
    private readonly log: (msg: string, fields?: object) => void,
    /** cgroup folder of this supervisor's processes (the mesh name). */
    private readonly group = `pid-${process.pid}`,
  ) {}

  start(spec: ProcessSpec): void {
    if (this.procs.has(spec.name)) throw new Error(`${spec.name} is already running`);
    const r: Running = { spec, restarts: 0, startedAt: 0, stopping: false, cgroup: ContainerCgroup.create(this.group, spec.name) };
    this.procs.set(spec.name, r);
    this.launch(r);
  }

  private launch(r: Running): void {
    mkdirSync(dirname(r.spec.logFile), { recursive: true });
    const fd = openSync(r.spec.logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', r.spec.netns, ...r.spec.argv], {
      env: { ...process.env, ...r.spec.env },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    if (child.pid) r.cgroup?.add(child.pid);
    r.child = child;
    r.startedAt = Date.now();
    r.exitCode = undefined;
    r.spec.onStart?.(child.pid);
    r.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        // The rest of the "container" goes with its main process.
        if (child.pid) killGroup(child.pid, 'SIGKILL');
        r.cgroup?.kill();
        r.child = undefined;
        const policy = r.spec.restartPolicy ?? 'Always';
        // A signal counts as a failure, as a container killed by one exits with 128+n.
        const failed = code !== 0;
        const restarting = !r.stopping && (policy === 'Always' || (policy === 'OnFailure' && failed));
        if (restarting) {
          const uptime = Date.now() - r.startedAt;
          // Like a DaemonSet replacing a deleted pod: at once, then backing off if it keeps dying.
          const crashes = r.killed ? 0 : r.restarts;
          const delay = uptime > 10_000 || crashes === 0 ? 0 : Math.min(5000, 200 * 2 ** Math.min(crashes, 5));
          if (!r.killed) r.restarts++;
          r.killed = false;
          this.log('process exited; restarting', { name: r.spec.name, code, signal, delayMs: delay });
          r.timer = setTimeout(() => !r.stopping && this.launch(r), delay);
        } else {
          r.exitCode = code ?? (signal ? 128 + (osSignals[signal] ?? 0) : null);
          if (!r.stopping) this.log('process exited; not restarted (restartPolicy ' + policy + ')', { name: r.spec.name, code, signal });
        }
        r.spec.onExit?.({ code: r.exitCode ?? code, signal, restarting, stopped: r.stopping });
        resolve();
      });
      child.once('error', (err) => this.log('spawn failed', { name: r.spec.name, err: String(err) }));
    });
  }

  /** Sends a signal to a component's whole process group; it is restarted unless stopped. */
  signal(name: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const r = this.procs.get(name);
    if (!r?.child?.pid) return false;
    r.killed = true;
    if (signal === 'SIGKILL') {
      killGroup(r.child.pid, signal);
      r.cgroup?.kill();
    } else r.child.kill(signal);
    return true;
  }

  /** Stops a component for good: SIGTERM, then SIGKILL after the grace period. */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    const r = this.procs.get(name);
    if (!r) return;
    r.stopping = true;
    clearTimeout(r.timer);
    if (r.child?.pid) {
      const pid = r.child.pid;
      const killAll = () => {
        killGroup(pid, 'SIGKILL');
        r.cgroup?.kill();
      };
      if (graceMs <= 0) killAll();
      else r.child.kill('SIGTERM');
      const force = setTimeout(killAll, graceMs);
      await r.exited;
      clearTimeout(force);
    }
    await r.cgroup?.remove();
    this.procs.delete(name);
    if (this.procs.size === 0) removeGroup(this.group);
  }

  has(name: string): boolean {
    return this.procs.has(name);
  }

  status(): ProcessStatus[] {
    return [...this.procs.values()].map((r) => ({
      name: r.spec.name,
      netns: r.spec.netns,
      pid: r.child?.pid,
      restarts: r.restarts,
      running: !!r.child,
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    }));
  }

  names(): string[] {
    return [...this.procs.keys()];
  }
}
