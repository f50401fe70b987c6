// The connection's IP context, made empty where the request has none yet (IPAM elements fill it).
import { ConnectionContext, IPContext, type Connection } from '@nsm/api';

export function ipContextOf(conn: Connection): IPContext {
  const ctxt = (conn.context ??= ConnectionContext.fromPartial({}));
  return (ctxt.ipContext ??= IPContext.fromPartial({}));
}
