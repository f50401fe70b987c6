// One netlink socket: numbered requests, one exchange at a time (replies of two exchanges on one
// socket would interleave), each exchange a batch of messages sent with one system call.
//
// The kernel handles every message of a batch, also after one has failed (unlike `ip -batch`, which
// stops), so a batch is for independent changes; results come back per message. That also lets
// exchanges that queue behind one under way go out together as one batch (each caller gets its own
// messages' outcomes): with many connections set up at once, their changes in the node's namespace
// cost a few system calls and threadpool hops instead of one each. A dump goes alone.
import { addon } from './addon';
import { message, NlMessage, parseMessages, parseStatus } from './codec';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR } from './consts';
import { fromSystemError, NetlinkError } from './errors';

export interface Outcome {
  /** 0 on success, else the positive errno. */
  errno: number;
  extack?: string;
  /** Data messages (for a dump, every part; for a get, the one answer). */
  replies: NlMessage[];
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Limits of one system call's batch (the addon refuses more than 4096 messages or 1 MiB). */
const MAX_BATCH = 1024;
const MAX_BATCH_BYTES = 512 * 1024;

export interface ExchangeOptions {
  /**
   * Through the threadpool even on a socket that runs changes on the calling thread: for work that
   * should overlap what this thread does next (e.g. a device made while a Request travels on).
   */
  offThread?: boolean;
}

interface Queued {
  msgs: readonly Buffer[];
  dump: boolean;
  offThread: boolean;
  resolve(o: Outcome[]): void;
  reject(e: unknown): void;
}

const isDump = (m: Buffer) => (m.readUInt16LE(6) & NLM_F_DUMP) === NLM_F_DUMP;

export class NetlinkSocket {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly queue: Queued[] = [];
  private running = false;
  private busy = 0;
  private fd: number | undefined;
  private drained: (() => void)[] = [];
  /** System calls made and exchanges they carried (tests, figures). */
  readonly counts = { sends: 0, exchanges: 0 };

  /** Opens a socket in the namespace at nsPath (undefined: this process's). */
  constructor(
    readonly protocol: number,
    readonly nsPath: string | undefined,
    /** For messages: "netns X". */
    readonly label: string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    /**
     * Which exchanges run on the calling thread rather than the threadpool: the kernel does a change
     * or a lookup within the send call, and the threadpool's two thread switches cost more than that.
     * 'changes': all but dumps (a dump of a busy namespace can be large); 'all': dumps too (a pod's
     * namespace, whose tables are small); 'none' (default): everything through the threadpool (a
     * socket for exchanges that wait in the kernel, such as deletions).
     */
    readonly sync: 'none' | 'changes' | 'all' = 'none',
  ) {
    try {
      this.fd = addon().open(nsPath ?? null, protocol, timeoutMs);
    } catch (e) {
      throw fromSystemError(e, `open netlink socket in ${label}`);
    }
  }

  get closed(): boolean {
    return this.fd === undefined;
  }

  /** Exchanges in flight or queued (a handle cache does not close a busy socket). */
  get pending(): number {
    return this.busy;
  }

  /**
   * Sends `msgs` in one batch (several, one after the other, past MAX_BATCH messages or bytes);
   * resolves with one outcome per message, in order.
   */
  async exchange(msgs: readonly Buffer[], opts: ExchangeOptions = {}): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (let i = 0; i < msgs.length; ) {
      let bytes = 0;
      let j = i;
      while (j < msgs.length && j - i < MAX_BATCH && bytes + msgs[j].length <= MAX_BATCH_BYTES) bytes += msgs[j++].length;
      if (j === i) throw new NetlinkError(90 /* EMSGSIZE */, `netlink message of ${msgs[i].length} bytes for ${this.label}`);
      out.push(...(await this.submit(msgs.slice(i, j), !!opts.offThread)));
      i = j;
    }
    return out;
  }

  private submit(msgs: readonly Buffer[], offThread: boolean): Promise<Outcome[]> {
    this.busy++;
    this.counts.exchanges++;
    return new Promise<Outcome[]>((resolve, reject) => {
      this.queue.push({ msgs, dump: msgs.some(isDump), offThread, resolve, reject });
      if (!this.running) void this.drain();
    }).finally(() => this.busy--);
  }

  /** One batch at a time: what queued meanwhile goes out together (a dump alone), within the batch limits. */
  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const first = this.queue.shift()!;
      const batch = [first];
      let count = first.msgs.length;
      let bytes = first.msgs.reduce((n, m) => n + m.length, 0);
      while (!first.dump && this.queue.length > 0 && !this.queue[0].dump) {
        const next = this.queue[0];
        const size = next.msgs.reduce((n, m) => n + m.length, 0);
        if (count + next.msgs.length > MAX_BATCH || bytes + size > MAX_BATCH_BYTES) break;
        batch.push(this.queue.shift()!);
        count += next.msgs.length;
        bytes += size;
      }
      try {
        const msgs = batch.flatMap((q) => q.msgs);
        const here = !first.offThread && (this.sync === 'all' || (this.sync === 'changes' && !first.dump));
        const outcomes = here ? this.sendSync(msgs) : await this.send(msgs);
        let at = 0;
        for (const q of batch) q.resolve(outcomes.slice(at, (at += q.msgs.length)));
      } catch (e) {
        for (const q of batch) q.reject(e);
      }
    }
    this.running = false;
    for (const f of this.drained.splice(0)) f();
  }

  private async send(msgs: readonly Buffer[]): Promise<Outcome[]> {
    const { fd, seqs, batch } = this.numbered(msgs);
    let raw: Buffer;
    try {
      raw = await addon().request(fd, batch);
    } catch (e) {
      throw fromSystemError(e, `netlink request in ${this.label}`);
    }
    return outcomesOf(raw, seqs);
  }

  /** send(), on this thread. */
  private sendSync(msgs: readonly Buffer[]): Outcome[] {
    const { fd, seqs, batch } = this.numbered(msgs);
    let raw: Buffer;
    try {
      raw = addon().requestSync(fd, batch);
    } catch (e) {
      throw fromSystemError(e, `netlink request in ${this.label}`);
    }
    return outcomesOf(raw, seqs);
  }

  /** The batch to send, each message with the next sequence number. */
  private numbered(msgs: readonly Buffer[]): { fd: number; seqs: number[]; batch: Buffer } {
    if (this.fd === undefined) throw new NetlinkError(9 /* EBADF */, `netlink socket for ${this.label} is closed`);
    this.counts.sends++;
    const seqs: number[] = [];
    const batch = Buffer.concat(
      msgs.map((m) => {
        const b = Buffer.from(m);
        this.seq = (this.seq + 1) >>> 0 || 1;
        b.writeUInt32LE(this.seq, 8);
        seqs.push(this.seq);
        return b;
      }),
    );
    return { fd: this.fd, seqs, batch };
  }

  /** One change (ACK requested); throws a NetlinkError naming `what` when the kernel refuses it. */
  async request(msg: Buffer, what: string): Promise<NlMessage[]> {
    const [o] = await this.exchange([msg]);
    if (o.errno) throw new NetlinkError(o.errno, what, o.extack);
    return o.replies;
  }

  /** A dump (every object of a kind, optionally filtered by the kernel through the request's fields). */
  async dump(type: number, body: Parameters<typeof message>[2], what: string): Promise<NlMessage[]> {
    return this.request(message(type, NLM_F_REQUEST | NLM_F_DUMP, body), what);
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    // Closing while the threadpool still reads from it would hand the number to someone else's
    // file; wait for the queue to drain first.
    const doClose = () => {
      try {
        addon().close(fd);
      } catch {
        // closing twice is the only failure, and it cannot happen here
      }
    };
    if (!this.running) doClose();
    else this.drained.push(doClose);
  }
}

/** Each message's outcome, from the replies to one exchange. */
function outcomesOf(raw: Buffer, seqs: readonly number[]): Outcome[] {
  const bySeq = new Map<number, Outcome>(seqs.map((s) => [s, { errno: 0, replies: [] }]));
  for (const m of parseMessages(raw)) {
    const o = bySeq.get(m.seq);
    if (!o) continue;
    if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE) {
      const st = parseStatus(m);
      o.errno = st.errno;
      if (st.extack) o.extack = st.extack;
    } else {
      // A dump the kernel had to restart (the table changed meanwhile) is reported as EINTR;
      // callers may simply ask again.
      if (m.flags & NLM_F_DUMP_INTR) o.errno ||= 4;
      o.replies.push(m);
    }
  }
  return seqs.map((s) => bySeq.get(s)!);
}

/** Flags of a change request. */
export const REQ = NLM_F_REQUEST | NLM_F_ACK;
