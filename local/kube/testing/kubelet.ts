// The runtime's pod API without namespaces and processes, for tests of the API and of its clients: the
// real KubeRuntime, PodStore and PodApi on a TCP port, with a stand-in for the mesh whose "processes"
// the test starts and ends (exit codes, restarts) by hand.
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { ProcessExit } from '../../supervisor';
import type { PodSpec } from '../../topology';
import { Admission, KubeRuntime, NodeInfo } from '../runtime';

export interface FakeProcess {
  spec: PodSpec;
  admission: Admission;
  running: boolean;
  /** The process exits with `code`; restarted as its restartPolicy says. */
  exit(code: number): void;
}

export class TestKubelet {
  readonly processes = new Map<string, FakeProcess>();
  readonly started: string[] = [];
  readonly kube: KubeRuntime;
  private server?: Server;
  url = '';

  constructor(readonly nodes: string[] = ['node1', 'node2']) {
    this.kube = new KubeRuntime(
      {
        node: (name) => (this.nodes.includes(name) ? this.nodeInfo(name) : undefined),
        nameTaken: (name) => this.nodes.includes(name),
        startPod: (spec) => this.startPod(spec),
        stopPod: async (name) => {
          const p = this.processes.get(name);
          if (p?.running) p.admission.onExit({ code: 0, signal: 'SIGTERM', restarting: false, stopped: true });
          this.processes.delete(name);
          this.kube.release(name);
        },
      },
      () => undefined,
    );
  }

  private nodeInfo(name: string): NodeInfo {
    return { name, ip: `10.233.0.${10 + this.nodes.indexOf(name) + 1}`, nsmSocket: `/run/${name}/nsm.io.sock` };
  }

  private async startPod(spec: PodSpec): Promise<void> {
    const admission = await this.kube.admit(spec, { netns: '', podDir: '', node: this.nodeInfo(spec.node) });
    const p: FakeProcess = {
      spec,
      admission,
      running: true,
      exit: (code) => {
        const policy = spec.restartPolicy ?? 'Always';
        const restarting = policy === 'Always' || (policy === 'OnFailure' && code !== 0);
        const e: ProcessExit = { code, signal: null, restarting, stopped: false };
        p.running = restarting;
        admission.onExit(e);
        if (restarting) admission.onStart();
      },
    };
    this.processes.set(spec.name, p);
    this.started.push(spec.name);
    admission.onStart();
  }

  /** Serves the API on 127.0.0.1 with the CLI's rights. */
  async listen(): Promise<this> {
    this.server = createServer((req, res) => void this.kube.serveAdmin(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'local', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'admin' }],
      contexts: [{ name: 'local', cluster: 'local', user: 'admin', namespace }],
      currentContext: 'local',
    });
    return kc;
  }

  async close(): Promise<void> {
    this.kube.close();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
