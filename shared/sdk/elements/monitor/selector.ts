// Which connections a MonitorConnections subscriber sees (api.md §7.2, v1.14.2 semantics): the
// selector's segments must match a contiguous run of the path, comparing name, id and token where the
// selector sets them; network_services, when given, must contain the connection's service.
import type { Connection, MonitorScopeSelector, PathSegment } from '@nsm/api';

const segMatches = (sel: PathSegment, seg: PathSegment) =>
  (!sel.name || sel.name === seg.name) && (!sel.id || sel.id === seg.id) && (!sel.token || sel.token === seg.token);

export function matchesSelector(conn: Connection, selector: MonitorScopeSelector): boolean {
  if (selector.networkServices.length > 0 && !selector.networkServices.includes(conn.networkService)) return false;
  const want = selector.pathSegments;
  if (want.length === 0) return true;
  const have = conn.path?.pathSegments ?? [];
  for (let start = 0; start + want.length <= have.length; start++) {
    if (want.every((w, i) => segMatches(w, have[start + i]))) return true;
  }
  return false;
}
