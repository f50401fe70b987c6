// setpayload (NS server): a NetworkService registered without a payload gets the default one.
import type { NetworkService } from '@nsm/api';
import { Payload } from '@nsm/api';
import type { RegistryElement } from '../../core/registry';

export function setPayload(defaultPayload: string = Payload.IP): RegistryElement<NetworkService> {
  return {
    register: (ctx, ns, next) => next.register(ctx, ns.payload ? ns : { ...ns, payload: defaultPayload }),
  };
}
