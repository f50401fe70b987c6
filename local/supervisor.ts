// Runs each component as a process inside its network namespace and restarts it when it dies as a
// kubelet does by its restartPolicy (Always, the default; OnFailure; Never: an exited process stays
// exited, and its exit code says whether the pod Succeeded or Failed). A process group stands in for a
// container: when the main process dies or is killed, whatever it started (ovsdb-server, wireguard-go)
// dies with it.
// A pod's process is isolated as a container is (ProcessSpec.isolation): its own PID, mount, UTS and
// IPC namespaces besides its network namespace, a private /tmp, and of the host's files only what
// hostPath mounts would share (local/pod-init.sh). It is PID 1 of its PID namespace: when it dies,
// the kernel kills everything else in that namespace, and a restart gets fresh namespaces.
import { spawn, ChildProcess } from 'node:child_process';
import { openSync, closeSync, mkdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from './paths';
import { ContainerCgroup, removeGroup } from './cgroup';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** How a pod's process is set apart from the host (see local/pod-init.sh). */
export interface Isolation {
  /** The pod's host name, in its own UTS namespace. */
  hostname: string;
  /** Host folders the pod sees at the same path (hostPath mounts). */
  shares: string[];
  /** Host folders the pod sees as an empty tmpfs of its own (/tmp, the mesh's folder). */
  hides: string[];
}

export interface ProcessSpec {
  name: string;
  netns: string;
  argv: string[];
  /** Set for a pod: its own PID, mount, UTS and IPC namespaces. Unset: the host's (nsmgr, forwarders). */
  isolation?: Isolation;
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
  /** The process's pid on the host; for an isolated pod, that of its PID 1 (what `nsenter -t` takes). */
  pid?: number;
  /** Whether it has PID, mount, UTS and IPC namespaces of its own. */
  isolated: boolean;
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

/**
 * argv that starts `argv` in network namespace `netns`, and, with `isolation`, in fresh PID, mount,
 * UTS and IPC namespaces too: `unshare --fork` makes the command PID 1 of the new PID namespace
 * (`--mount-proc`: its /proc shows only its own processes) and, with --kill-child, SIGKILLs it when
 * unshare itself is killed, which takes the whole PID namespace with it.
 */
export function processArgv(netns: string, argv: string[], isolation?: Isolation): string[] {
  if (!isolation) return ['ip', 'netns', 'exec', netns, ...argv];
  return [
    'ip', 'netns', 'exec', netns,
    'unshare', '--pid', '--fork', '--mount-proc', '--mount', '--uts', '--ipc', '--kill-child', '--',
    'bash', join(repoRoot(), 'local', 'pod-init.sh'), isolation.hostname, String(isolation.shares.length), ...isolation.shares, ...isolation.hides, '--',
    ...argv,
  ];
}

/** The pid of the process that `unshare --fork` (pid `launcher`) started: the pod's PID 1, on the host. */
export function podInitPid(launcher: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${launcher}/task/${launcher}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * argv that runs `cmd` where a process runs: in every namespace of an isolated pod's PID 1 (as
 * kubectl exec joins a container), else in the network namespace `netns` (a node).
 */
export function execArgv(netns: string, proc: ProcessStatus | undefined, cmd: string[]): string[] {
  if (proc?.isolated) {
    if (!proc.pid) throw new Error(`${proc.name} is not running`);
    return ['nsenter', '-t', String(proc.pid), '--all', '--wd', '--', ...cmd];
  }
  return ['ip', 'netns', 'exec', netns, ...cmd];
}

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
    const [cmd, ...args] = processArgv(r.spec.netns, r.spec.argv, r.spec.isolation);
    const child = spawn(cmd, args, {
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
    } else this.politely(r, signal);
    return true;
  }

  /** A signal for the main process: for a pod its PID 1 (unshare, which started it, ignores SIGTERM). */
  private politely(r: Running, signal: NodeJS.Signals): void {
    if (!r.child?.pid) return;
    if (!r.spec.isolation) {
      r.child.kill(signal);
      return;
    }
    const init = podInitPid(r.child.pid);
    if (init === undefined) {
      // Not forked yet (or gone): nothing in the pod to be polite to.
      killGroup(r.child.pid, 'SIGKILL');
      return;
    }
    try {
      process.kill(init, signal);
    } catch {
      /* gone */
    }
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
      else this.politely(r, 'SIGTERM');
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
      pid: r.child?.pid && r.spec.isolation ? podInitPid(r.child.pid) : r.child?.pid,
      isolated: !!r.spec.isolation,
      restarts: r.restarts,
      running: !!r.child,
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    }));
  }

  names(): string[] {
    return [...this.procs.keys()];
  }
}
