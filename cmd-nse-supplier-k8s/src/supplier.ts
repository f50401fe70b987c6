// The supplier's memory (sdk.md §8, components.md §8), one slot per client node:
//   starting  a pod was asked for (or exists) and its endpoint has not registered yet: every Request
//             for that node waits for the same pod, so concurrent clients start ONE endpoint
//   ready     the endpoint registered under the pod's name; Requests that still arrive here are told
//             to retry (they reach the endpoint through the NetworkService's first match)
//   failed    the create was refused, the pod failed or never registered: Requests for the node get
//             that error at once for the failure backoff, then a new pod is tried
// A slot goes when its endpoint unregisters (it retires when idle) or its pod completes or is deleted;
// the next Request for the node then starts a new pod, even while the old one is still exiting. That
// is the retirement race: a Request that reached the retiring endpoint is refused by it ("endpoint
// expired"), retried by the client, finds no endpoint on the node, falls through to the supplier and
// gets a new one.
//
// Every Request fails, as upstream's: the supplier never serves a connection. It differs from upstream
// in waiting for the endpoint before it answers (the client's next attempt then connects), in
// clearing a node after a failed create (upstream answered "already exists" for that node forever),
// and in deleting only the completed pods it made (upstream deleted any completed pod on those nodes).
import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '@nsm/sdk/core/context';
import { Code, invalidArgument, StatusError, unavailable } from '@nsm/sdk/core/errors';
import type { RegistryHandler } from '@nsm/sdk/core/registry';
import { log } from '@nsm/sdk/log';
import type { PodsApi, PodView } from './pods';
import { podFor, PodTemplate, SUPPLIER_LABEL, supplierLabelValue } from './template';

export interface SupplierOptions {
  pods: PodsApi;
  template: PodTemplate;
  /** The service this supplier stands in for (its label on the pods it makes). */
  service: string;
  /** NSE registry, through the supplier's nsmgr: where the new endpoints show up. */
  registry: RegistryHandler<NetworkServiceEndpoint>;
  startTimeoutMs: number;
  failureBackoffMs: number;
  /** Answer this long before the Request's deadline, so the client has time for its next attempt. */
  deadlineMarginMs?: number;
}

interface Slot {
  node: string;
  phase: 'starting' | 'ready' | 'failed';
  pod?: string;
  /** Resolves when the endpoint registered, rejects when the start failed. */
  ready: Promise<void>;
  resolve: () => void;
  reject: (err: StatusError) => void;
  error?: StatusError;
  failedAt?: number;
  createdAt: number;
  timer?: NodeJS.Timeout;
  /** Ends the registration watch of the slot's endpoint. */
  unwatch?: AbortController;
}

/** Container states that will not get better by waiting. */
const HOPELESS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff', 'RunContainerError']);
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Why a pod is finished or cannot start, or undefined while it may still come up. */
export function podProblem(p: PodView): string | undefined {
  const st = p.status;
  const cs = st?.containerStatuses?.[0]?.state;
  if (st?.phase === 'Succeeded' || st?.phase === 'Failed') {
    const t = cs?.terminated;
    const how = t ? `exit code ${t.exitCode ?? '?'}${t.reason ? ` (${t.reason})` : ''}${t.message ? `: ${t.message}` : ''}` : (st.message ?? st.reason ?? '');
    return `pod ${p.metadata.name} ${st.phase === 'Succeeded' ? 'completed' : 'failed'}${how ? `: ${how}` : ''}`;
  }
  if (cs?.waiting?.reason && HOPELESS.has(cs.waiting.reason)) return `pod ${p.metadata.name} cannot start: ${cs.waiting.reason}${cs.waiting.message ? `: ${cs.waiting.message}` : ''}`;
  const unschedulable = st?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable) return `pod ${p.metadata.name} cannot be scheduled${unschedulable.message ? `: ${unschedulable.message}` : ''}`;
  return undefined;
}

const completed = (p: PodView) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export class Supplier {
  private readonly slots = new Map<string, Slot>();
  private readonly byPod = new Map<string, Slot>();
  /** Pods of ours being deleted, so that each is deleted once. */
  private readonly deleting = new Set<string>();
  /** Last state seen of each of our pods (a watch event can come before the create's answer). */
  private readonly seen = new Map<string, PodView>();
  private readonly closer = new AbortController();
  private readonly selector: string;

  constructor(private readonly o: SupplierOptions) {
    this.selector = `${SUPPLIER_LABEL}=${supplierLabelValue(o.service)}`;
  }

  /** Starts watching our pods; the first list adopts those still running (a restarted supplier). */
  async start(): Promise<void> {
    let first = true;
    await this.o.pods.watch(
      this.selector,
      this.closer.signal,
      (pods) => {
        for (const p of pods) {
          this.seen.set(p.metadata.name, p);
          if (first) this.adopt(p);
          this.observe(p);
        }
        first = false;
      },
      (type, p) => (type === 'put' ? this.observe(p) : this.forget(p)),
    );
  }

  close(): void {
    this.closer.abort();
    for (const s of this.slots.values()) this.drop(s);
  }

  /** What the slots hold, for logs and tests. */
  state(): Record<string, { phase: Slot['phase']; pod?: string }> {
    return Object.fromEntries([...this.slots.values()].map((s) => [s.node, { phase: s.phase, ...(s.pod ? { pod: s.pod } : {}) }]));
  }

  /** Handles a Request for `node`: makes sure an endpoint is coming there; always fails. */
  async supply(ctx: Context, node: string | undefined): Promise<never> {
    if (!node) throw invalidArgument('connection.labels has no nodeName: the supplier starts the endpoint on the client\'s node, which the client\'s nsmgr adds (NODE_NAME)');
    if (!NODE_NAME.test(node)) throw invalidArgument(`connection.labels.nodeName "${node.slice(0, 64)}" is not a node name`);
    let slot = this.slots.get(node);
    if (slot?.phase === 'failed' && Date.now() - (slot.failedAt ?? 0) >= this.o.failureBackoffMs) {
      this.slots.delete(node);
      slot = undefined;
    }
    slot ??= this.create(node);
    if (slot.phase === 'failed') throw slot.error!;
    if (slot.phase === 'ready') throw unavailable(`endpoint ${slot.pod} is ready on node ${node}; the client's next attempt reaches it`);
    await this.wait(ctx, slot);
    throw unavailable(`endpoint ${slot.pod} started on node ${node}; the client's next attempt reaches it`);
  }

  /** Waits for the slot's endpoint, until shortly before the Request's deadline. */
  private async wait(ctx: Context, slot: Slot): Promise<void> {
    const margin = this.o.deadlineMarginMs ?? 500;
    // Past the slot's own start timeout the slot fails, and the waiters hear why: wait a little longer than that.
    const left = Math.min((ctx.remaining() ?? Infinity) - margin, this.o.startTimeoutMs - (Date.now() - slot.createdAt) + 1000);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        slot.ready,
        new Promise<void>((_, reject) => {
          timer = setTimeout(
            () => reject(unavailable(`endpoint ${slot.pod ?? '(being created)'} on node ${slot.node} is still starting after ${Date.now() - slot.createdAt} ms; retry`)),
            Math.max(0, left),
          );
          onAbort = () => reject(new StatusError(Code.CANCELLED, 'request cancelled while the endpoint was starting'));
          ctx.signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  private newSlot(node: string, pod?: string): Slot {
    let resolve!: () => void;
    let reject!: (err: StatusError) => void;
    const ready = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    ready.catch(() => undefined);
    const slot: Slot = { node, phase: 'starting', pod, ready, resolve, reject, createdAt: Date.now() };
    this.slots.set(node, slot);
    if (pod) this.track(slot, pod);
    return slot;
  }

  private create(node: string): Slot {
    const slot = this.newSlot(node);
    log.info({ node, template: this.o.template.name }, 'creating an endpoint pod for the client\'s node');
    void this.o.pods.create(podFor(this.o.template, node, this.o.service)).then(
      (pod) => {
        if (slot.phase !== 'starting') return;
        log.info({ node, pod: pod.metadata.name }, 'endpoint pod created');
        this.track(slot, pod.metadata.name);
        const known = this.seen.get(pod.metadata.name);
        if (known) this.observe(known);
      },
      (err) => this.fail(slot, StatusError.wrap(err, `cannot create an endpoint pod on node ${node} from template ${this.o.template.name}`)),
    );
    return slot;
  }

  /** Binds a slot to its pod: its registration watch and its start timeout. */
  private track(slot: Slot, pod: string): void {
    slot.pod = pod;
    this.byPod.set(pod, slot);
    const left = this.o.startTimeoutMs - (Date.now() - slot.createdAt);
    slot.timer = setTimeout(() => {
      if (slot.phase === 'starting') this.fail(slot, unavailable(`endpoint pod ${pod} on node ${slot.node} did not register within ${this.o.startTimeoutMs} ms`));
    }, Math.max(0, left));
    slot.unwatch = new AbortController();
    void this.watchRegistration(slot, pod, slot.unwatch.signal);
  }

  /** Follows the endpoint registered under the pod's name: registered → ready; unregistered → gone. */
  private async watchRegistration(slot: Slot, pod: string, signal: AbortSignal): Promise<void> {
    for (let failures = 0; !signal.aborted; ) {
      const ctx = Context.background().withSignal(signal);
      try {
        await this.o.registry.find(ctx, { item: NetworkServiceEndpoint.fromPartial({ name: pod }), watch: true }, (r) => {
          if (r.item.name !== pod) return;
          failures = 0;
          if (!r.deleted && slot.phase === 'starting') {
            slot.phase = 'ready';
            clearTimeout(slot.timer);
            log.info({ node: slot.node, pod, startMs: Date.now() - slot.createdAt }, 'endpoint registered');
            slot.resolve();
          } else if (r.deleted && slot.phase === 'ready') {
            log.info({ node: slot.node, pod }, 'endpoint unregistered (retired); the next request for the node starts a new one');
            this.drop(slot);
          }
        });
      } catch (err) {
        if (signal.aborted) return;
        log.debug({ pod, err: String(err) }, 'registration watch failed; watching again');
      }
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(failures++, 5))));
    }
  }

  private fail(slot: Slot, err: StatusError): void {
    if (slot.phase === 'failed') return;
    log.warn({ node: slot.node, pod: slot.pod, err: err.message }, 'endpoint could not be started');
    slot.phase = 'failed';
    slot.error = err;
    slot.failedAt = Date.now();
    clearTimeout(slot.timer);
    slot.unwatch?.abort();
    if (slot.pod) {
      this.byPod.delete(slot.pod);
      this.remove(slot.pod);
    }
    slot.reject(err);
  }

  /** Forgets a slot (its endpoint retired or its pod went away). */
  private drop(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.unwatch?.abort();
    if (slot.pod && this.byPod.get(slot.pod) === slot) this.byPod.delete(slot.pod);
    if (this.slots.get(slot.node) === slot) this.slots.delete(slot.node);
    if (slot.phase === 'starting') slot.reject(unavailable(`endpoint pod ${slot.pod} on node ${slot.node} went away before it registered`));
  }

  /** A pod of ours that is running after a restart of the supplier: its node has an endpoint (coming). */
  private adopt(p: PodView): void {
    const node = p.spec?.nodeName;
    if (!node || p.metadata.deletionTimestamp || completed(p) || this.slots.has(node)) return;
    log.info({ node, pod: p.metadata.name }, 'adopting a running endpoint pod');
    this.newSlot(node, p.metadata.name);
  }

  private observe(p: PodView): void {
    const name = p.metadata.name;
    this.seen.set(name, p);
    const slot = this.byPod.get(name);
    const problem = podProblem(p);
    if (!problem) return;
    if (slot?.phase === 'starting') this.fail(slot, new StatusError(Code.FAILED_PRECONDITION, `endpoint on node ${slot.node}: ${problem}`));
    else if (slot) this.drop(slot);
    // Completed pods of ours go (upstream deleted every completed pod on the node, ours or not).
    if (completed(p)) this.remove(name);
  }

  private forget(p: PodView): void {
    const name = p.metadata.name;
    this.seen.delete(name);
    this.deleting.delete(name);
    const slot = this.byPod.get(name);
    if (slot?.phase === 'starting') this.fail(slot, unavailable(`endpoint pod ${name} on node ${slot.node} was deleted before it registered`));
    else if (slot) this.drop(slot);
  }

  private remove(name: string): void {
    if (this.deleting.has(name)) return;
    this.deleting.add(name);
    log.info({ pod: name }, 'deleting endpoint pod');
    void this.o.pods.delete(name).catch((err) => {
      this.deleting.delete(name);
      log.warn({ pod: name, err: String(err) }, 'deleting the pod failed');
    });
  }
}
