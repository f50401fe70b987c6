// setregistrationtime (NSE server): stamps initial_registration_time on the first Register of a name
// and keeps that first value on every later Register (refreshes included) until the name is
// unregistered (the later sdk behaviour; v1.1.1 re-stamped it on refreshes).
import type { NetworkServiceEndpoint, Timestamp } from '@nsm/api';
import { Clock, realClock } from '../../core/clock';
import { toTimestamp } from '../../core/conn';
import type { RegistryElement } from '../../core/registry';

export function setRegistrationTime(clock: Clock = realClock): RegistryElement<NetworkServiceEndpoint> & { size(): number } {
  const first = new Map<string, Timestamp>();
  return {
    size: () => first.size,
    async register(ctx, nse, next) {
      const known = nse.name ? first.get(nse.name) : undefined;
      const stamp = known ?? nse.initialRegistrationTime ?? toTimestamp(clock.now());
      const out = await next.register(ctx, { ...nse, initialRegistrationTime: stamp });
      if (out.name && !first.has(out.name)) first.set(out.name, out.initialRegistrationTime ?? stamp);
      return out;
    },
    async unregister(ctx, nse, next) {
      await next.unregister(ctx, nse);
      first.delete(nse.name);
    },
  };
}
