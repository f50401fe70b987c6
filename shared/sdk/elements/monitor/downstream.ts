// Following the next hop's monitor: one MonitorConnections stream per next-hop channel and hop name,
// shared by every connection of this hop that goes there, instead of one stream per connection. The
// selector names this hop's own path segment, so the next hop sends what it has about every
// connection that passes through us; each event goes to the connection it concerns (by our
// segment's id in its path). Only the first connection waits for the stream's initial event; the
// others join a stream that is already known to work, without a round trip. The stream outlives its
// last connection for `lingerMs`, and ends with its channel.
//
// A connection joins the stream only after its Request returned, so what the next hop said about it
// in between (it may already report the connection DOWN: a hop behind it died right after the reply)
// would be lost; the per-connection streams of before got it in their initial state. The stream keeps
// the last event of each connection nobody follows yet (bounded), and a joining connection gets it if
// it came after its Request started (`mark`), so older news about an earlier life of the same id
// does not count.
//
// A stream that breaks reports every connection on it as DOWN (their next hop is gone), and so does
// one that breaks while a connection is about to join it; it is replaced by a new one for the next
// Request.
import type { Connection, ConnectionEvent } from '@nsm/api';
import { ConnectionEventType } from '@nsm/api';
import { Context } from '../../core/context';
import { unavailable } from '../../core/errors';
import { monitorStream, NsmConnection } from '../../grpc/clients';

/** What a connection does with the next hop's news about it (`deleted`: the next hop dropped it). */
export type DownstreamListener = {
  event(theirs: Connection, deleted: boolean): void;
  /** The stream broke: the next hop is unreachable. */
  broken(err: unknown): void;
};

/** How many unfollowed connections' last events a stream keeps for connections about to join. */
const PENDING_MAX = 1024;

/** Orders events across streams, so that a joining connection can tell news from before its Request. */
let sequence = 0;

class DownstreamStream {
  readonly listeners = new Map<string, DownstreamListener>();
  /** The last event (its sequence number, the connection) of each of our segment ids nobody follows yet. */
  private readonly pending = new Map<string, { seq: number; conn: Connection }>();
  readonly ready: Promise<void>;
  broken = false;
  private idle: NodeJS.Timeout | undefined;
  private readonly cancel: () => void;

  constructor(
    readonly cc: NsmConnection,
    readonly ownName: string,
    private readonly lingerMs: number,
    private readonly gone: (s: DownstreamStream) => void,
  ) {
    const { ctx, cancel } = Context.background().withCancel();
    this.cancel = cancel;
    let initial = true;
    this.ready = new Promise((resolve, reject) => {
      const onEvent = (ev: ConnectionEvent) => {
        const deleted = ev.type === ConnectionEventType.DELETE;
        for (const c of Object.values(ev.connections)) {
          const ours = c.path?.pathSegments?.find((s) => s.name === ownName);
          if (!ours) continue;
          const l = this.listeners.get(ours.id);
          if (l) l.event(c, deleted);
          // A DELETE of an id nobody follows is most likely the Close of its earlier life: not kept.
          else if (!deleted) this.keep(ours.id, c);
        }
        if (initial) {
          initial = false;
          resolve();
        }
      };
      const selector = { pathSegments: [{ name: ownName, id: '', token: '', expires: undefined, metrics: {} }], networkServices: [] };
      monitorStream(ctx, cc, selector, onEvent).then(
        () => this.end(),
        (err) => {
          if (initial) {
            initial = false;
            reject(unavailable(`unable to monitor ${cc.url}: ${(err as Error).message}`));
          }
          this.end(err);
        },
      );
    });
    // A Request that waits on `ready` sees its rejection; nobody else needs to.
    this.ready.catch(() => undefined);
  }

  private keep(id: string, conn: Connection): void {
    this.pending.delete(id);
    this.pending.set(id, { seq: ++sequence, conn });
    if (this.pending.size > PENDING_MAX) this.pending.delete(this.pending.keys().next().value!);
  }

  /**
   * Registers the connection whose segment here has `id`, handing it what came since `since` (a
   * `mark()` taken before its Request); returns what unregisters it.
   */
  add(id: string, l: DownstreamListener, since: number): () => void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    this.listeners.set(id, l);
    const missed = this.pending.get(id);
    this.pending.delete(id);
    if (missed && missed.seq > since) l.event(missed.conn, false);
    return () => {
      if (this.listeners.get(id) !== l) return;
      this.listeners.delete(id);
      if (this.listeners.size > 0 || this.broken) return;
      if (this.lingerMs <= 0) return this.end();
      this.idle = setTimeout(() => this.listeners.size === 0 && this.end(), this.lingerMs);
      this.idle.unref();
    };
  }

  private end(err?: unknown): void {
    if (this.broken) return;
    this.broken = true;
    if (this.idle) clearTimeout(this.idle);
    this.cancel();
    this.gone(this);
    if (err === undefined) return;
    for (const l of [...this.listeners.values()]) l.broken(err);
    this.listeners.clear();
  }
}

/** The shared streams of one monitor element, by next-hop channel and this hop's name. */
export class DownstreamMonitors {
  private readonly streams = new Map<NsmConnection, Map<string, DownstreamStream>>();

  constructor(private readonly lingerMs = 60_000) {}

  /** A point in the order of events, taken before a Request so that `follow` hands what came after. */
  mark(): number {
    return sequence;
  }

  /**
   * Follows `cc`'s news about our connection with segment `own`, starting with what the next hop
   * said about it after `since` (from `mark()`); resolves once the stream works.
   */
  async follow(cc: NsmConnection, own: { name: string; id: string }, l: DownstreamListener, since: number): Promise<() => void> {
    let byName = this.streams.get(cc);
    if (!byName) this.streams.set(cc, (byName = new Map()));
    let s = byName.get(own.name);
    if (!s || s.broken) {
      s = new DownstreamStream(cc, own.name, this.lingerMs, (gone) => {
        const m = this.streams.get(cc);
        if (m?.get(gone.ownName) === gone) m.delete(gone.ownName);
        if (m?.size === 0) this.streams.delete(cc);
      });
      byName.set(own.name, s);
    }
    await s.ready;
    if (s.broken) {
      // The stream worked and broke since (the next hop died right after its reply): the connection
      // is made but its next hop is gone, which is DOWN, not a failed Request. Failing it would make
      // the client retry along a fresh path, whose ids the hops behind the dead one do not know: the
      // endpoint would hold the first attempt's addresses until expiry. DOWN lets the client heal
      // along the same path.
      l.broken(unavailable(`the monitor stream of ${cc.url} ended`));
      return () => undefined;
    }
    return s.add(own.id, l, since);
  }

  /** Streams open now (tests, figures). */
  get size(): number {
    let n = 0;
    for (const m of this.streams.values()) n += m.size;
    return n;
  }
}
