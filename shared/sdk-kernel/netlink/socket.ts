// One netlink socket: numbered requests, one exchange at a time (replies of two exchanges on one
// socket would interleave), each exchange a batch of messages sent with one system call.
//
// The kernel handles every message of a batch, also after one has failed (unlike `ip -batch`, which
// stops), so a batch is for independent changes; results come back per message.
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

export class NetlinkSocket {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private tail: Promise<unknown> = Promise.resolve();
  private busy = 0;
  private fd: number | undefined;

  /** Opens a socket in the namespace at nsPath (undefined: this process's). */
  constructor(
    readonly protocol: number,
    readonly nsPath: string | undefined,
    /** For messages: "netns X". */
    readonly label: string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
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
  async exchange(msgs: readonly Buffer[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (let i = 0; i < msgs.length; ) {
      let bytes = 0;
      let j = i;
      while (j < msgs.length && j - i < MAX_BATCH && bytes + msgs[j].length <= MAX_BATCH_BYTES) bytes += msgs[j++].length;
      if (j === i) throw new NetlinkError(90 /* EMSGSIZE */, `netlink message of ${msgs[i].length} bytes for ${this.label}`);
      out.push(...(await this.exchangeOne(msgs.slice(i, j))));
      i = j;
    }
    return out;
  }

  private exchangeOne(msgs: readonly Buffer[]): Promise<Outcome[]> {
    this.busy++;
    const run = async (): Promise<Outcome[]> => {
      if (this.fd === undefined) throw new NetlinkError(9 /* EBADF */, `netlink socket for ${this.label} is closed`);
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
      let raw: Buffer;
      try {
        raw = await addon().request(this.fd, batch);
      } catch (e) {
        throw fromSystemError(e, `netlink request in ${this.label}`);
      }
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
    };
    const p = this.tail.then(run, run);
    this.tail = p.then(
      () => undefined,
      () => undefined,
    );
    return p.finally(() => this.busy--);
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
    if (this.busy === 0) doClose();
    else this.tail.then(doClose, doClose);
  }
}

/** Flags of a change request. */
export const REQ = NLM_F_REQUEST | NLM_F_ACK;
