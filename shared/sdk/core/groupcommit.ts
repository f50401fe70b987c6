// Group commit with an outcome per caller: for the OVS clients (sdk-ovs: direct/ovs.ts over OVSDB
// and OpenFlow, batch.ts over ovs-vsctl/ovs-ofctl) and the kernel's link deletions (sdk-kernel
// netlink). Requests that arrive while a flush is in flight are merged into the next one, so N
// concurrent connections cost one OVSDB transaction or one FLOW_MOD batch + BARRIER instead of N;
// with `gather`, requests of the same event-loop turn also wait for each other (one connection's
// two devices, released together, go in one kernel batch). The flush reports each caller's own result: where the
// protocol tells which part failed (OVSDB per interface, OpenFlow per FLOW_MOD) directly; where it
// does not (a process's exit status), mergedOrOneByOne replays a failed batch call by call, so one
// bad request still fails only its caller.

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Pending<T, R> {
  input: T;
  resolve(v: R): void;
  reject(e: unknown): void;
}

export interface GroupCommitOptions {
  /** Start a flush on the next turn of the event loop rather than at once, so that requests of this turn share it. */
  gather?: boolean;
}

export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private running = false;
  /** Flushes so far and the largest batch (tests and figures). */
  flushes = 0;
  largest = 0;

  /** `flush` returns one outcome per input, in order; if it throws, every caller of the batch gets that error. */
  constructor(
    private readonly flush: (batch: T[]) => Promise<Outcome<R>[]>,
    private readonly opts: GroupCommitOptions = {},
  ) {}

  submit(input: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.running) return;
      this.running = true;
      if (this.opts.gather) setImmediate(() => void this.drain());
      else void this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        this.flushes++;
        this.largest = Math.max(this.largest, batch.length);
        let out: Outcome<R>[];
        try {
          out = await this.flush(batch.map((p) => p.input));
        } catch (err) {
          for (const p of batch) p.reject(err);
          continue;
        }
        batch.forEach((p, i) => {
          const o = out[i];
          if (!o) p.reject(new Error('group commit: no outcome for a request'));
          else if (o.ok) p.resolve(o.value);
          else p.reject(o.error);
        });
      }
    } finally {
      this.running = false;
    }
  }
}

/**
 * A flush for calls that succeed or fail as a whole: the merged call first; when it fails and the
 * batch had several callers, each caller's own call, so that only the bad one fails.
 */
export function mergedOrOneByOne<T, R>(merged: (batch: T[]) => Promise<R[]>, single: (one: T) => Promise<R>): (batch: T[]) => Promise<Outcome<R>[]> {
  const settle = (p: Promise<R>): Promise<Outcome<R>> => p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
  return async (batch) => {
    try {
      return (await merged(batch)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (batch.length === 1) return [{ ok: false, error }];
      return Promise.all(batch.map((one) => settle(single(one))));
    }
  };
}
