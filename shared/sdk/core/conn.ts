// Small helpers over the generated message types.
import { Connection, NetworkServiceRequest, PathSegment, Timestamp } from '@nsm/api';

export const clone = <T>(v: T): T => structuredClone(v);

export function toTimestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function fromTimestamp(ts: Timestamp | undefined): number | undefined {
  if (!ts) return undefined;
  return ts.seconds * 1000 + Math.floor(ts.nanos / 1e6);
}

export function emptyConnection(): Connection {
  return Connection.fromPartial({});
}

export function requestOf(conn: Connection, prefs: NetworkServiceRequest['mechanismPreferences'] = []): NetworkServiceRequest {
  return { connection: conn, mechanismPreferences: prefs };
}

export const segments = (conn: Connection): PathSegment[] => conn.path?.pathSegments ?? [];
export const currentSegment = (conn: Connection): PathSegment | undefined => segments(conn)[conn.path?.index ?? 0];
export const prevSegment = (conn: Connection): PathSegment | undefined => {
  const i = conn.path?.index ?? 0;
  return i > 0 ? segments(conn)[i - 1] : undefined;
};
export const nextSegment = (conn: Connection): PathSegment | undefined => segments(conn)[(conn.path?.index ?? 0) + 1];
