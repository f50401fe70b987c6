// Single-point IPAM (upstream's singlepointipam, used by the remote VLAN endpoint): each client gets
// one address of the endpoint's prefix *with the prefix's length* (e.g. 172.16.10.2/24), so that it
// sits on the external network's subnet and reaches every host there on-link. No endpoint-side
// address: the endpoint is not in the data path. Network and (IPv4) broadcast addresses and the
// given exclusions (the network's own gateway, say) and the request's excluded prefixes are never
// handed out. Stable across refresh, returned on Close or a failed first request.
import { createKey } from '../../core/context';
import { resourceExhausted } from '../../core/errors';
import { serverMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import { addressOf, addressText, contains, excludedUntil, parsePrefix, Prefix } from './cidr';
import { excludedOf } from './point2point';
import { ipContextOf } from './context';

interface Lease {
  pool: Prefix;
  n: bigint;
  text: string;
}

export function singlePointIpam(prefixes: string[], opts: { exclude?: string[] } = {}): NetworkServiceElement & { leased(): number } {
  if (prefixes.length === 0) throw new Error('single-point IPAM needs one or more prefixes');
  const pools = prefixes.map(parsePrefix);
  const excluded = (opts.exclude ?? []).map((a) => {
    const x = addressOf(a);
    if (!x) throw new Error(`"${a}" is not an IP address`);
    return x;
  });
  const used = new Map<Prefix, Set<bigint>>(pools.map((p) => [p, new Set<bigint>()]));
  const leaseKey = createKey<Lease[]>('ipam.single');
  let count = 0;
  const length = (p: Prefix) => p.text.split('/')[1];

  const allocate = (pool: Prefix, prefixes: Prefix[]): Lease | undefined => {
    const taken = used.get(pool)!;
    // Skip the network address, and for IPv4 the broadcast address (unless the prefix is that small).
    const wide = pool.end - pool.start >= 3n;
    const first = wide ? pool.start + 1n : pool.start;
    const last = wide && !pool.v6 ? pool.end - 1n : pool.end;
    for (let n = first; n <= last; n++) {
      const until = excludedUntil(prefixes, pool.v6, n);
      if (until !== undefined) {
        n = until;
        continue;
      }
      if (taken.has(n) || excluded.some((x) => x.v6 === pool.v6 && x.n === n)) continue;
      taken.add(n);
      return { pool, n, text: `${addressText(pool.v6, n)}/${length(pool)}` };
    }
    return undefined;
  };
  const release = (l: Lease) => {
    used.get(l.pool)!.delete(l.n);
    count--;
  };

  return {
    leased: () => count,
    async request(ctx, req, next) {
      const conn = req.connection!;
      const ip = ipContextOf(conn);
      const meta = serverMeta(ctx);
      // The request's excluded prefixes (the nsmgr's file among them) as in point2point: never handed
      // out, and a lease that became excluded is given up and replaced.
      const prefixes = excludedOf(ip.excludedPrefixes);
      let leases = meta.get(leaseKey);
      if (leases?.some((l) => prefixes.some((x) => contains(x, l.pool.v6, l.n)))) {
        ip.srcIpAddrs = ip.srcIpAddrs.filter((a) => !leases!.some((l) => l.text === a));
        leases.forEach(release);
        leases = undefined;
        meta.delete(leaseKey);
      }
      const fresh = !leases;
      if (!leases) {
        leases = [];
        for (const v6 of [false, true]) {
          const familyPools = pools.filter((p) => p.v6 === v6);
          if (familyPools.length === 0) continue;
          const got = familyPools.map((p) => allocate(p, prefixes)).find((l) => l !== undefined);
          if (!got) {
            leases.forEach(release);
            throw resourceExhausted(`IP pool ${familyPools.map((p) => p.text).join(', ')} is exhausted`);
          }
          count++;
          leases.push(got);
        }
      }
      for (const l of leases) if (!ip.srcIpAddrs.includes(l.text)) ip.srcIpAddrs.push(l.text);
      try {
        const out = await next.request(ctx, req);
        meta.set(leaseKey, leases);
        return out;
      } catch (err) {
        if (fresh) leases.forEach(release);
        throw err;
      }
    },
    async close(ctx, conn, next) {
      serverMeta(ctx).take(leaseKey)?.forEach(release);
      return next.close(ctx, conn);
    },
  };
}
