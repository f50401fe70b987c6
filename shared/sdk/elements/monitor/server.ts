// The MonitorConnections server of one hop: the last published state of every connection, and the
// subscribers with their selectors. Every subscriber first gets INITIAL_STATE_TRANSFER (even empty).
// A subscriber that came over gRPC sees only connections whose path holds its identity (a segment
// whose token's sub is its SPIFFE ID, as the hops stamped them): a client its own connections, an
// nsmgr the connections it passed on. v1.1.1 showed everything to anyone (sdk#46); in-process
// subscribers still see everything.
import { Connection, ConnectionEvent, ConnectionEventType, MonitorScopeSelector } from '@nsm/api';
import type { Context } from '../../core/context';
import { clone } from '../../core/conn';
import { peerKey } from '../../grpc/keys';
import { parseJwt } from '../../token/jwt';
import { matchesSelector } from './selector';

/** Whether the path of `conn` holds `id`: some segment's token was issued by it. */
export function pathHolds(conn: Connection, id: string): boolean {
  return (conn.path?.pathSegments ?? []).some((s) => parseJwt(s.token)?.claims.sub === id);
}

/** Who may see what: everything in-process; over gRPC only what the caller's identity is on (nothing without one). */
function visibility(ctx: Context): (c: Connection) => boolean {
  const peer = ctx.get(peerKey);
  if (!peer) return () => true;
  const id = peer.id;
  return id ? (c) => pathHolds(c, id) : () => false;
}

type Send = (ev: ConnectionEvent) => Promise<void>;

interface Subscriber {
  selector: MonitorScopeSelector;
  visible: (c: Connection) => boolean;
  send: Send;
  /** Each subscriber's events go out in order without one slow reader blocking the others. */
  queue: Promise<void>;
  fail(err: unknown): void;
}

export class MonitorServer {
  private readonly connections = new Map<string, Connection>();
  private readonly subscribers = new Set<Subscriber>();

  get size(): number {
    return this.connections.size;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  snapshot(): Connection[] {
    return [...this.connections.values()].map(clone);
  }

  publish(type: ConnectionEventType, conns: Connection[]): void {
    if (type === ConnectionEventType.INITIAL_STATE_TRANSFER) return;
    for (const c of conns) {
      if (type === ConnectionEventType.DELETE) this.connections.delete(c.id);
      else this.connections.set(c.id, clone(c));
    }
    for (const sub of this.subscribers) {
      const matching = conns.filter((c) => matchesSelector(c, sub.selector) && sub.visible(c));
      if (matching.length === 0) continue;
      const ev: ConnectionEvent = { type, connections: Object.fromEntries(matching.map((c) => [c.id, clone(c)])) };
      sub.queue = sub.queue.then(() => sub.send(ev)).catch((err) => sub.fail(err));
    }
  }

  /** Serves one subscriber until `ctx` ends or sending fails. */
  async serve(ctx: Context, selector: MonitorScopeSelector, send: Send): Promise<void> {
    let fail!: (err: unknown) => void;
    const failed = new Promise<void>((resolve) => (fail = () => resolve()));
    const visible = visibility(ctx);
    const initial = this.snapshot().filter((c) => matchesSelector(c, selector) && visible(c));
    const sub: Subscriber = {
      selector,
      visible,
      send,
      fail,
      queue: send({
        type: ConnectionEventType.INITIAL_STATE_TRANSFER,
        connections: Object.fromEntries(initial.map((c) => [c.id, c])),
      }).catch((err) => fail(err)),
    };
    this.subscribers.add(sub);
    try {
      await Promise.race([failed, new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }))]);
    } finally {
      this.subscribers.delete(sub);
    }
  }
}
