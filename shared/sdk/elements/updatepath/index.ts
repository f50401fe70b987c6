// updatepath (sdk.md §2.8): makes this hop own one path segment and sets connection.id to that
// segment's id; the reply goes back in the caller's coordinates. Used by server and client chains.
import { randomUUID } from 'node:crypto';
import { Connection, NetworkServiceRequest } from '@nsm/api';
import { invalidArgument } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';

/** Advances `conn` (mutated) to hop `name`; returns the caller's index. */
export function advancePath(conn: Connection, name: string, newId: () => string = randomUUID): number {
  const path = conn.path ?? (conn.path = { index: 0, pathSegments: [] });
  const segs = path.pathSegments;
  if (segs.length === 0) {
    path.index = 0;
    if (!conn.id) conn.id = newId();
    segs.push({ name, id: conn.id, token: '', expires: undefined, metrics: {} });
    return 0;
  }
  const index = path.index;
  if (index >= segs.length) {
    throw invalidArgument(`connection.path.index ${index} is out of range: the path has ${segs.length} segment(s)`);
  }
  if (segs[index].name === name) {
    conn.id = segs[index].id;
    return index;
  }
  if (segs[index].id !== conn.id) {
    throw invalidArgument(
      `connection.id "${conn.id}" must equal connection.path.path_segments[${index}].id "${segs[index].id}"`,
    );
  }
  const next = index + 1;
  if (next < segs.length && segs[next].name !== name) {
    segs[next] = { name, id: newId(), token: '', expires: undefined, metrics: {} };
  }
  if (next === segs.length) segs.push({ name, id: newId(), token: '', expires: undefined, metrics: {} });
  path.index = next;
  conn.id = segs[next].id;
  return index;
}

function restore(conn: Connection, index: number): Connection {
  if (conn.path && conn.path.pathSegments.length > index) {
    conn.path.index = index;
    conn.id = conn.path.pathSegments[index].id;
  }
  return conn;
}

export function updatePath(name: string): NetworkServiceElement {
  return {
    async request(ctx, req: NetworkServiceRequest, next) {
      const conn = req.connection ?? (req.connection = Connection.fromPartial({}));
      const callerIndex = advancePath(conn, name);
      const out = await next.request(ctx, req);
      return restore(out, callerIndex);
    },
    async close(ctx, conn, next) {
      advancePath(conn, name);
      return next.close(ctx, conn);
    },
  };
}
