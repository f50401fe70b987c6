// A cgroup per supervised process stands in for a container: killing it kills everything the
// process started, including daemons that put themselves in a process group of their own
// (ovs-vswitchd, wireguard-go). Uses cgroup v2's cgroup.kill; without cgroup v2 it reports itself
// unavailable and the supervisor falls back to process groups.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function cgroup2Root(): string | undefined {
  try {
    const line = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[2] === 'cgroup2');
    return line?.split(' ')[1];
  } catch {
    return undefined;
  }
}

export class ContainerCgroup {
  private constructor(readonly path: string) {}

  static create(group: string, name: string): ContainerCgroup | undefined {
    const root = cgroup2Root();
    if (!root) return undefined;
    const path = join(root, 'nsm-local', group, name);
    try {
      mkdirSync(path, { recursive: true });
      if (!existsSync(join(path, 'cgroup.kill'))) return undefined;
      return new ContainerCgroup(path);
    } catch {
      return undefined;
    }
  }

  add(pid: number): boolean {
    try {
      writeFileSync(join(this.path, 'cgroup.procs'), String(pid));
      return true;
    } catch {
      return false;
    }
  }

  pids(): number[] {
    try {
      return readFileSync(join(this.path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  kill(): void {
    try {
      writeFileSync(join(this.path, 'cgroup.kill'), '1');
    } catch {
      /* already gone */
    }
  }

  /** Removes the cgroup once it is empty (retrying briefly while the kernel reaps). */
  async remove(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(this.path);
        return;
      } catch {
        if (!existsSync(this.path)) return;
        this.kill();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

/** Removes a mesh's cgroup folder (after every process cgroup in it is gone). */
export function removeGroup(group: string): void {
  const root = cgroup2Root();
  if (!root) return;
  try {
    rmdirSync(join(root, 'nsm-local', group));
  } catch {
    /* not empty or not there */
  }
}
