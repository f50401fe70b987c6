// One gRPC channel per next-hop URL, shared by every connection going there. v1.1.1 dials a channel
// per connection on every Request; sharing removes the dial from the request path (a 100 ms dial
// timeout under load fails otherwise) and keeps the number of sockets flat. A channel nobody holds
// any more lingers a few seconds before it is closed: a Request that gave up waiting for a
// handshake (the dial timeout) and is retried finds the channel connected instead of starting over.
import type { X509Source } from '../spiffe/source';
import { NsmConnection } from './clients';

/** How long an unused channel stays open. */
export const LINGER_MS = 5000;

interface Entry {
  conn: NsmConnection;
  refs: number;
  linger?: ReturnType<typeof setTimeout>;
}

export interface Lease {
  readonly conn: NsmConnection;
  release(): void;
}

export class ChannelPool {
  private readonly entries = new Map<string, Entry>();

  /** `source`: the identity every channel of this pool presents. */
  constructor(
    private readonly source: X509Source,
    private readonly lingerMs = LINGER_MS,
  ) {}

  acquire(url: string): Lease {
    let e = this.entries.get(url);
    if (e && e.conn.broken) {
      // A broken channel stays with the connections that hold it; new ones get a fresh channel.
      this.entries.delete(url);
      if (e.refs === 0) this.drop(e);
      e = undefined;
    }
    if (!e) {
      e = { conn: new NsmConnection(url, this.source), refs: 0 };
      this.entries.set(url, e);
    }
    const entry = e;
    if (entry.linger) clearTimeout(entry.linger);
    entry.linger = undefined;
    entry.refs++;
    let released = false;
    return {
      conn: entry.conn,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        if (entry.refs > 0) return;
        if (this.entries.get(url) !== entry) return this.drop(entry);
        entry.linger = setTimeout(() => {
          if (entry.refs > 0) return;
          if (this.entries.get(url) === entry) this.entries.delete(url);
          this.drop(entry);
        }, this.lingerMs);
        entry.linger.unref?.();
      },
    };
  }

  private drop(e: Entry): void {
    if (e.linger) clearTimeout(e.linger);
    e.linger = undefined;
    e.conn.close();
  }

  /** Closes every channel (on shutdown). */
  close(): void {
    for (const e of this.entries.values()) this.drop(e);
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
