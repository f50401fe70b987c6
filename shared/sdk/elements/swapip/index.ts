// swapip (server; nsmgr-proxy, sdk.md §3.28): the tunnel addresses of a remote mechanism cross the
// domain's edge through the address map, so the two forwarders, each behind its own NAT, address each
// other by their external IPs. The source-side proxy (no orig_src_ip yet) puts its forwarder's
// external src_ip in and keeps the internal one in orig_src_ip, and clears what a destination may
// have left; on the reply it gives its forwarder back its own src_ip. The destination-side proxy
// leaves the Request alone and, on the reply, shows the other side its forwarder's external dst_ip
// (the internal one kept in orig_dst_ip).
import { Connection, Mechanism, Param } from '@nsm/api';
import type { NetworkServiceElement } from '../../core/networkservice';
import type { IpSwap } from '../../input/ipmap';

type Params = Record<string, string>;

const isSourceSide = (p: Params) => !p[Param.origSrcIp];

function requestSide(p: Params, swap: IpSwap): Params {
  if (!isSourceSide(p)) return p;
  const out = { ...p };
  const src = p[Param.srcIp];
  if (src) {
    out[Param.origSrcIp] = src;
    out[Param.srcIp] = swap.toExternal(src) ?? src;
  }
  delete out[Param.dstIp];
  delete out[Param.origDstIp];
  return out;
}

function replySide(p: Params, sourceSide: boolean, swap: IpSwap): Params {
  const out = { ...p };
  if (sourceSide) {
    if (p[Param.origSrcIp]) out[Param.srcIp] = p[Param.origSrcIp];
    delete out[Param.origSrcIp];
    return out;
  }
  const dst = p[Param.dstIp];
  if (dst && !p[Param.origDstIp]) {
    out[Param.origDstIp] = dst;
    out[Param.dstIp] = swap.toExternal(dst) ?? dst;
  }
  return out;
}

const withParams = (m: Mechanism, f: (p: Params) => Params): Mechanism => (m.parameters && Object.keys(m.parameters).length > 0 ? { ...m, parameters: f(m.parameters) } : m);

export function swapIp(swap: IpSwap): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const prefs = req.mechanismPreferences ?? [];
      const cur = req.connection?.mechanism;
      const withIps = [...prefs, ...(cur ? [cur] : [])].filter((m) => m.parameters?.[Param.srcIp]);
      const sourceSide = withIps.length > 0 && withIps.every((m) => isSourceSide(m.parameters));
      const out = await next.request(ctx, {
        ...req,
        mechanismPreferences: prefs.map((m) => withParams(m, (p) => requestSide(p, swap))),
        connection: cur ? { ...req.connection!, mechanism: withParams(cur, (p) => requestSide(p, swap)) } : req.connection,
      });
      return out.mechanism ? ({ ...out, mechanism: withParams(out.mechanism, (p) => replySide(p, sourceSide, swap)) } as Connection) : out;
    },
  };
}
