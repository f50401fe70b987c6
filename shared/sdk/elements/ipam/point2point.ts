// point2pointipam (sdk.md §3.23): each connection gets two host addresses from the endpoint's prefix:
// the lower one for the endpoint side, the next for the client side, and a route to each other.
// The pair stays the same across refreshes; Close returns both to the pool.
//
// A client connection that comes again along a new path (a retry after a failed Request, a reselect)
// reaches us with a new segment id while its earlier path may still hold its pair here: the hops that
// died with that path cannot pass its Close on, so the pair would stay taken until the earlier
// path's tokens expire (minutes; with a small pool the client gets no address at all). The same
// client connection (the first segment's id, stamped by the same identity) takes its pair over
// instead; the earlier path's Close or expiry then leaves the pair alone.
import { Connection, Route } from '@nsm/api';
import { createKey } from '../../core/context';
import { resourceExhausted } from '../../core/errors';
import { serverMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import { parseJwt } from '../../token/jwt';
import { addressOf, contains, excludedUntil, hostPrefix, parsePrefix, Prefix } from './cidr';
import { ipContextOf } from './context';

interface Lease {
  pool: Prefix;
  dst: bigint;
  src: bigint;
}

/** The client connection a request belongs to, whatever path it came by: its first segment's id and signer. */
function clientOf(conn: Connection): string | undefined {
  const first = conn.path?.pathSegments?.[0];
  const sub = first ? parseJwt(first.token)?.claims.sub : undefined;
  return first?.id && sub ? JSON.stringify([first.id, sub]) : undefined;
}

export function point2pointIpam(prefixes: string[]): NetworkServiceElement & { leased(): number } {
  if (prefixes.length === 0) throw new Error('point2point IPAM needs one or more prefixes');
  const pools = prefixes.map(parsePrefix);
  const used = new Map<Prefix, Set<bigint>>(pools.map((p) => [p, new Set<bigint>()]));
  const leaseKey = createKey<Lease[]>('ipam.p2p');
  /** Client connection → the segment id (ours) that holds its leases now. */
  const holders = new Map<string, { id: string; leases: Lease[] }>();
  let count = 0;

  const allocate = (pool: Prefix, excluded: Prefix[]): [bigint, bigint] | undefined => {
    const taken = used.get(pool)!;
    const got: bigint[] = [];
    for (let n = pool.start; n <= pool.end && got.length < 2; n++) {
      // An excluded prefix is stepped over whole (a /8 over the pool costs one step, not 2^24).
      const until = excludedUntil(excluded, pool.v6, n);
      if (until !== undefined) n = until;
      else if (!taken.has(n)) got.push(n);
    }
    if (got.length < 2) return undefined;
    got.forEach((n) => taken.add(n));
    return [got[0], got[1]];
  };
  const release = (l: Lease) => {
    used.get(l.pool)!.delete(l.dst);
    used.get(l.pool)!.delete(l.src);
    count--;
  };

  return {
    leased: () => count,
    async request(ctx, req, next) {
      const conn = req.connection!;
      const ip = ipContextOf(conn);
      const excluded = excludedOf(ip.excludedPrefixes);
      const meta = serverMeta(ctx);
      const client = clientOf(conn);
      const held = client === undefined ? undefined : holders.get(client);
      let leases = meta.get(leaseKey) ?? (held && held.id !== conn.id ? held.leases : undefined);
      // Taken over from the client's earlier path: not ours to give back if this Request fails.
      const takenOver = leases !== undefined && !meta.get(leaseKey);
      // A lease that became excluded is given up and replaced.
      if (leases?.some((l) => excluded.some((x) => contains(x, l.pool.v6, l.dst) || contains(x, l.pool.v6, l.src)))) {
        for (const l of leases) {
          const drop = [hostPrefix(l.pool.v6, l.src), hostPrefix(l.pool.v6, l.dst)];
          ip.srcIpAddrs = ip.srcIpAddrs.filter((a) => !drop.includes(a));
          ip.dstIpAddrs = ip.dstIpAddrs.filter((a) => !drop.includes(a));
          ip.srcRoutes = ip.srcRoutes.filter((r) => !drop.includes(r.prefix));
          ip.dstRoutes = ip.dstRoutes.filter((r) => !drop.includes(r.prefix));
          release(l);
        }
        if (held?.leases === leases) holders.delete(client!);
        leases = undefined;
        meta.delete(leaseKey);
      }
      const fresh = !leases;
      if (!leases) {
        leases = [];
        // One pair per address family; the first pool of a family that has room wins.
        for (const v6 of [false, true]) {
          const familyPools = pools.filter((p) => p.v6 === v6);
          if (familyPools.length === 0) continue;
          let got: Lease | undefined;
          for (const pool of familyPools) {
            const pair = allocate(pool, excluded);
            if (pair) {
              got = { pool, dst: pair[0], src: pair[1] };
              count++;
              break;
            }
          }
          if (!got) {
            leases.forEach(release);
            throw resourceExhausted(`IP pool ${familyPools.map((p) => p.text).join(', ')} is exhausted`);
          }
          leases.push(got);
        }
      }
      for (const l of leases) {
        const src = hostPrefix(l.pool.v6, l.src);
        const dst = hostPrefix(l.pool.v6, l.dst);
        if (!ip.srcIpAddrs.includes(src)) ip.srcIpAddrs.push(src);
        if (!ip.dstIpAddrs.includes(dst)) ip.dstIpAddrs.push(dst);
        if (!ip.srcRoutes.some((r) => r.prefix === dst)) ip.srcRoutes.push(Route.fromPartial({ prefix: dst }));
        if (!ip.dstRoutes.some((r) => r.prefix === src)) ip.dstRoutes.push(Route.fromPartial({ prefix: src }));
      }
      try {
        const out = await next.request(ctx, req);
        meta.set(leaseKey, leases);
        if (client !== undefined) holders.set(client, { id: conn.id, leases });
        return out;
      } catch (err) {
        if (fresh && !takenOver) leases.forEach(release);
        throw err;
      }
    },
    async close(ctx, conn, next) {
      const leases = serverMeta(ctx).take(leaseKey);
      const client = clientOf(conn);
      const held = client === undefined ? undefined : holders.get(client);
      // Leases another path of the same client took over stay with it.
      if (leases && !(held && held.leases === leases && held.id !== conn.id)) {
        leases.forEach(release);
        if (held?.leases === leases) holders.delete(client!);
      }
      return next.close(ctx, conn);
    },
  };
}

export { addressOf };

/** The request's excluded prefixes (sdk.md §3.23 step 2); ones that do not parse are skipped, as upstream's. */
export function excludedOf(texts: string[]): Prefix[] {
  return texts.flatMap((p) => {
    try {
      return [parsePrefix(p)];
    } catch {
      return [];
    }
  });
}
