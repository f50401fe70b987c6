// One gRPC channel per next-hop URL, shared by every connection going there. v1.1.1 dials a channel
// per connection on every Request; sharing removes the dial from the request path (a 100 ms dial
// timeout under load fails otherwise) and keeps the number of sockets flat.
import type { X509Source } from '../spiffe/source';
import { NsmConnection } from './clients';

interface Entry {
  conn: NsmConnection;
  refs: number;
}

export interface Lease {
  readonly conn: NsmConnection;
  release(): void;
}

export class ChannelPool {
  private readonly entries = new Map<string, Entry>();

  /** `source`: the identity every channel of this pool presents. */
  constructor(private readonly source: X509Source) {}

  acquire(url: string): Lease {
    let e = this.entries.get(url);
    if (e && e.conn.broken) {
      // A broken channel stays with the connections that hold it; new ones get a fresh channel.
      this.entries.delete(url);
      if (e.refs === 0) e.conn.close();
      e = undefined;
    }
    if (!e) {
      e = { conn: new NsmConnection(url, this.source), refs: 0 };
      this.entries.set(url, e);
    }
    const entry = e;
    entry.refs++;
    let released = false;
    return {
      conn: entry.conn,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        if (entry.refs === 0) {
          if (this.entries.get(url) === entry) this.entries.delete(url);
          entry.conn.close();
        }
      },
    };
  }

  get size(): number {
    return this.entries.size;
  }
}
