// An endpoint that terminates connections (cmd-nse-icmp-responder, sdk.md §5.9): point-to-point
// addresses from its prefix, and the KERNEL mechanism with its own namespace and interface name.
import { MechanismType } from '@nsm/api';
import type { Clock } from '../core/clock';
import type { NetworkServiceElement } from '../core/networkservice';
import { point2pointIpam } from '../elements/ipam/point2point';
import { kernelMechanismServer } from '../elements/kernel';
import { mechanisms } from '../elements/mechanisms';
import type { Policy } from '../policy';
import type { TokenGenerator } from '../token';
import { endpoint, Endpoint } from './endpoint';

export interface NseOptions {
  name: string;
  tokens: TokenGenerator;
  clock?: Clock;
  /** Server policies (default upstream's set). */
  policies?: readonly Policy[];
  cidrPrefixes: string[];
  netnsUrl?: string;
  /** Extra elements after IPAM and before the mechanism (e.g. DNS configs). */
  additional?: NetworkServiceElement[];
  /** Replaces the point-to-point IPAM (e.g. single-point addresses on an external subnet). */
  ipam?: NetworkServiceElement;
  /**
   * Replaces the mechanisms this endpoint accepts (default KERNEL in its own namespace, and NOOP):
   * e.g. KERNEL with VLAN trunking, or only the remote VLAN mechanism.
   */
  mechanisms?: Record<string, NetworkServiceElement>;
}

export function icmpResponderEndpoint(opts: NseOptions): Endpoint {
  return endpoint({
    name: opts.name,
    tokens: opts.tokens,
    clock: opts.clock,
    policies: opts.policies,
    additional: [
      opts.ipam ?? point2pointIpam(opts.cidrPrefixes),
      ...(opts.additional ?? []),
      mechanisms(
        opts.mechanisms ?? {
          [MechanismType.KERNEL]: kernelMechanismServer({ netnsUrl: opts.netnsUrl }),
          [MechanismType.NOOP]: {},
        },
      ),
    ],
  });
}
