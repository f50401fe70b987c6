// The heal client's event loop: watches its own connection through the next hop's MonitorConnections
// and reports trouble once: the connection DOWN or deleted downstream, or the stream broken. The watch
// starts after the Request returned, so what went wrong in between shows only in the first state: the
// next hop already reports the connection DOWN, or does not know it (it restarted).
import { Connection, ConnectionEvent, ConnectionEventType, MonitorScopeSelector, State } from '@nsm/api';
import type { Context } from '../../core/context';
import { monitorStream, NsmConnection } from '../../grpc/clients';

export function watchConnection(ctx: Context, cc: NsmConnection, conn: Connection, onTrouble: (reason: string) => void): void {
  const index = conn.path!.index;
  const own = conn.path!.pathSegments[index];
  let initial = true;
  const onEvent = (ev: ConnectionEvent) => {
    const c = Object.values(ev.connections).find((x) => x.path?.pathSegments[index]?.id === own.id);
    if (initial) {
      initial = false;
      if (!c || c.state === State.DOWN) onTrouble(!c ? 'next hop does not know the connection' : 'state DOWN');
      return;
    }
    if (!c) return;
    if (ev.type === ConnectionEventType.DELETE || c.state === State.DOWN) {
      onTrouble(ev.type === ConnectionEventType.DELETE ? 'deleted downstream' : 'state DOWN');
    }
  };
  const selector: MonitorScopeSelector = { pathSegments: [{ name: own.name, id: own.id, token: '', expires: undefined, metrics: {} }], networkServices: [] };
  monitorStream(ctx, cc, selector, onEvent).catch((err) => {
    if (!ctx.done) onTrouble(`monitor stream broke: ${(err as Error).message}`);
  });
}
