// One gRPC channel per next-hop URL, shared by every connection going there. v1.1.1 dials a channel
// per connection on every Request; sharing removes the dial from the request path (a 100 ms dial
// timeout under load fails otherwise) and keeps the number of sockets flat. A channel nobody holds
// stays open for `lingerMs` (default 60 s) before it is closed: connections come and go one after
// the other (a client's heal, a node's next pod, a Request retried after its dial timeout), and each
// would otherwise pay a socket connect and an HTTP/2 and mutual TLS handshake at every hop.
import type { X509Source } from '../spiffe/source';
import { NsmConnection } from './clients';

interface Entry {
  conn: NsmConnection;
  refs: number;
  idle?: NodeJS.Timeout;
}

export interface Lease {
  readonly conn: NsmConnection;
  release(): void;
}

export interface ChannelPoolOptions {
  /** How long a channel nobody holds stays open (0: closed at once). */
  lingerMs?: number;
}

export class ChannelPool {
  private readonly entries = new Map<string, Entry>();
  private readonly lingerMs: number;

  /** `source`: the identity every channel of this pool presents. */
  constructor(
    private readonly source: X509Source,
    opts: ChannelPoolOptions = {},
  ) {
    this.lingerMs = opts.lingerMs ?? 60_000;
  }

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
    entry.refs++;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = undefined;
    let released = false;
    return {
      conn: entry.conn,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        if (entry.refs > 0) return;
        const close = () => {
          if (entry.refs > 0) return;
          if (this.entries.get(url) === entry) this.entries.delete(url);
          this.drop(entry);
        };
        if (this.lingerMs <= 0 || entry.conn.broken || this.entries.get(url) !== entry) return close();
        entry.idle = setTimeout(close, this.lingerMs);
        entry.idle.unref();
      },
    };
  }

  /** Closes every channel nobody holds now (the ones in use close when released). */
  closeIdle(): void {
    for (const [url, e] of [...this.entries]) {
      if (e.refs > 0) continue;
      this.entries.delete(url);
      this.drop(e);
    }
  }

  private drop(e: Entry): void {
    if (e.idle) clearTimeout(e.idle);
    e.idle = undefined;
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
