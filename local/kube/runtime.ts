// The kubelet side of the pod API: every pod of the runtime has a Pod object whose status follows its
// process (Pending, Running, then Succeeded or Failed when its restartPolicy keeps it down); pods
// created through the API are scheduled onto their spec.nodeName and started by the mesh; a delete
// marks the pod, stops it with its grace period, then removes the object. The mesh stays the one that
// makes namespaces and processes; this keeps the objects and the API's side of them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rfc3339 } from '@nsm/sdk-k8s/api-status';
import type { ProcessExit } from '../supervisor';
import type { PodSpec } from '../topology';
import { PodApi } from './apiserver';
import { grantPodApi, PodAccess } from './podaccess';
import { notRun, planPod } from './containers';
import { podFromSpec, validatePod } from './podspec';
import { PodStore, podNotFound } from './store';
import type { ContainerState, ContainerStatus, Pod } from './types';

export interface NodeInfo {
  name: string;
  ip: string;
  nsmSocket: string;
}

/** What the mesh does for the API. */
export interface MeshHooks {
  node(name: string): NodeInfo | undefined;
  /** A pod, node or external network of this name exists. */
  nameTaken(name: string): boolean;
  startPod(spec: PodSpec): Promise<void>;
  /** Stops a pod's process and removes its namespace; resolves when it is gone. */
  stopPod(name: string, graceMs: number): Promise<void>;
  /** Mutating admission (the webhook) of a pod being created; absent or undefined: none. */
  admitPod?(pod: unknown, namespace: string): Promise<unknown> | undefined;
}

/** What a starting pod gets: extra env and the hooks that keep its status. */
export interface Admission {
  env: Record<string, string>;
  onStart: () => void;
  onExit: (e: ProcessExit) => void;
}

const DEFAULT_GRACE_S = 30;

export class KubeRuntime {
  readonly store = new PodStore();
  readonly api: PodApi;
  private readonly access = new Map<string, PodAccess>();

  constructor(
    private readonly mesh: MeshHooks,
    private readonly log: (msg: string, fields?: object) => void,
  ) {
    this.api = new PodApi(this.store, {
      create: (ns, body) => this.create(ns, body),
      delete: (ns, name, grace) => this.delete(ns, name, grace),
    });
  }

  /** Serves an API request from the daemon's control socket (the runtime's own CLI). */
  serveAdmin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.api.serve(req, res, { admin: true });
  }

  /** Called by the mesh before a pod's process starts: its object, its API access, its status hooks. */
  async admit(spec: PodSpec, where: { netns: string; podDir: string; node: NodeInfo }): Promise<Admission> {
    if (!this.store.has(spec.name)) this.store.add(podFromSpec(spec));
    const namespace = spec.namespace ?? 'default';
    const env: Record<string, string> = {};
    if (spec.kubeApi ?? spec.command === 'nse-supplier-k8s') {
      const access = await grantPodApi({ netns: where.netns, podDir: where.podDir, pod: spec.name, namespace, serve: (req, res, caller) => void this.api.serve(req, res, caller) });
      this.access.set(spec.name, access);
      env.KUBECONFIG = access.kubeconfig;
    }
    this.store.update(spec.name, (p) => {
      p.status.hostIP = where.node.ip;
      p.status.conditions = [condition('PodScheduled', 'True')];
    });
    let restarts = 0;
    let last: ContainerState = {};
    let startedAt = '';
    // Containers the runtime runs share the state of the pod's processes (the first one's); those it
    // cannot run (an image it does not pull) stay waiting, and the pod is then not Ready.
    const stored = this.store.byName(spec.name);
    const skipped = stored && spec.containers ? notRun(stored, where.node) : [];
    const runs = spec.containers?.map((c) => c.name) ?? [stored?.spec.containers[0]?.name ?? spec.command ?? 'main'];
    const statuses = (p: Pod, state: ContainerState, ready: boolean): ContainerStatus[] => [
      ...runs.map((name) => ({
        name,
        image: p.spec.containers.find((c) => c.name === name)?.image ?? `cmd-${spec.command}`,
        imageID: '',
        ready,
        started: !!state.running,
        restartCount: restarts,
        state,
        lastState: last,
      })),
      ...skipped.map((w) => ({ name: w.name, image: w.image, imageID: '', ready: false, started: false, restartCount: 0, state: { waiting: w.waiting }, lastState: {} })),
    ];
    const ready = skipped.length === 0;
    return {
      env,
      onStart: () => {
        startedAt = rfc3339();
        this.store.update(spec.name, (p) => {
          p.status.phase = 'Running';
          p.status.startTime ??= startedAt;
          p.status.conditions = [condition('PodScheduled', 'True'), ready ? condition('Ready', 'True') : condition('Ready', 'False', 'ContainersNotReady', `containers not run: ${skipped.map((w) => w.name).join(', ')}`)];
          p.status.containerStatuses = statuses(p, { running: { startedAt } }, true);
        });
      },
      onExit: (e) => {
        const code = e.code ?? 137;
        const terminated: ContainerState = { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt, finishedAt: rfc3339() } };
        this.store.update(spec.name, (p) => {
          p.status.conditions = [condition('PodScheduled', 'True'), condition('Ready', 'False')];
          if (e.restarting) {
            last = terminated;
            restarts++;
            p.status.containerStatuses = statuses(p, { waiting: { reason: 'ContainerCreating' } }, false);
            return;
          }
          p.status.containerStatuses = statuses(p, terminated, false);
          if (!e.stopped) p.status.phase = code === 0 ? 'Succeeded' : 'Failed';
        });
        if (!e.restarting && !e.stopped) this.log('pod completed', { name: spec.name, exitCode: code });
      },
    };
  }

  /** Marks a pod for deletion (the first step of a graceful delete). */
  markDeleting(name: string, graceSeconds: number): void {
    this.store.update(name, (p) => {
      p.metadata.deletionTimestamp ??= rfc3339(new Date(Date.now() + graceSeconds * 1000));
      p.metadata.deletionGracePeriodSeconds ??= graceSeconds;
    });
  }

  /** The pod's object and API access go (its process and namespace are gone). */
  release(name: string): void {
    this.access.get(name)?.close();
    this.access.delete(name);
    this.store.remove(name);
  }

  /** Ends the API's watches and forgets every pod (the mesh is down). */
  close(): void {
    this.api.close();
    for (const p of this.store.list().items) this.release(p.metadata.name);
    for (const name of [...this.access.keys()]) this.release(name);
  }

  private async create(namespace: string, body: unknown): Promise<Pod> {
    return (await this.createPod(namespace, body)).pod;
  }

  /**
   * Creates a pod as the API server does: mutating admission (the webhook sees the object as sent,
   * before a generated name), validation, storage; then schedules it. `started` settles once its
   * processes are started (or it could not start: see its status).
   */
  async createPod(namespace: string, body: unknown): Promise<{ pod: Pod; started: Promise<void> }> {
    const podShaped = !!body && typeof body === 'object' && (body as { kind?: unknown }).kind === 'Pod' && (body as { apiVersion?: unknown }).apiVersion === 'v1';
    const admitted = (podShaped && (await this.mesh.admitPod?.(body, namespace))) || body;
    const pod = validatePod(admitted, namespace, (n) => this.store.has(n) || this.mesh.nameTaken(n));
    const stored = this.store.add(pod);
    this.log('pod created through the API', { name: stored.metadata.name, namespace, node: stored.spec.nodeName, mutated: admitted !== body });
    return { pod: stored, started: this.schedule(stored) };
  }

  /** Starts an API-created pod on its node, or records why it cannot start. */
  private async schedule(pod: Pod): Promise<void> {
    const name = pod.metadata.name;
    const node = pod.spec.nodeName ? this.mesh.node(pod.spec.nodeName) : undefined;
    if (!node) {
      const message = pod.spec.nodeName ? `node "${pod.spec.nodeName}" does not exist` : 'spec.nodeName is not set and the local runtime has no scheduler';
      this.store.update(name, (p) => (p.status.conditions = [condition('PodScheduled', 'False', 'Unschedulable', message)]));
      return;
    }
    const plan = planPod(pod, node);
    if ('waiting' in plan) {
      this.store.update(name, (p) => {
        p.status.hostIP = node.ip;
        p.status.conditions = [condition('PodScheduled', 'True')];
        p.status.containerStatuses = [
          { name: p.spec.containers[0].name, image: p.spec.containers[0].image ?? '', imageID: '', ready: false, started: false, restartCount: 0, state: { waiting: plan.waiting }, lastState: {} },
        ];
      });
      this.log('pod cannot start', { name, ...plan.waiting });
      return;
    }
    try {
      await this.mesh.startPod(plan.spec);
    } catch (err) {
      this.log('pod failed to start', { name, err: String(err) });
      this.store.update(name, (p) => {
        p.status.phase = 'Failed';
        p.status.reason = 'StartError';
        p.status.message = (err as Error).message;
      });
    }
  }

  private async delete(namespace: string, name: string, graceSeconds?: number): Promise<Pod> {
    const pod = this.store.get(namespace, name);
    const grace = graceSeconds ?? (typeof pod.spec.terminationGracePeriodSeconds === 'number' ? pod.spec.terminationGracePeriodSeconds : DEFAULT_GRACE_S);
    if (pod.metadata.deletionTimestamp) return pod;
    this.markDeleting(name, grace);
    const marked = this.store.byName(name);
    if (!marked) throw podNotFound(name);
    void this.mesh.stopPod(name, grace * 1000).catch((err) => this.log('pod delete failed', { name, err: String(err) }));
    return marked;
  }
}

function condition(type: string, st: 'True' | 'False', reason?: string, message?: string) {
  return { type, status: st, ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastTransitionTime: rfc3339() };
}
