// Group commit with an outcome per caller. Requests that arrive while a flush is in flight are
// merged into the next one, so N concurrent connections cost one OVSDB transaction or one
// FLOW_MOD batch + BARRIER instead of N. Unlike batch.ts, the flush reports each caller's own
// result (OVSDB tells which interface failed, OpenFlow which FLOW_MOD), so one bad request fails
// only its caller without the batch being replayed call by call.

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Pending<T, R> {
  input: T;
  resolve(v: R): void;
  reject(e: unknown): void;
}

export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private running = false;
  /** Flushes so far and the largest batch (tests and figures). */
  flushes = 0;
  largest = 0;

  /** `flush` returns one outcome per input, in order; if it throws, every caller of the batch gets that error. */
  constructor(private readonly flush: (batch: T[]) => Promise<Outcome<R>[]>) {}

  submit(input: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
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
