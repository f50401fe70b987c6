// NSM_NETWORK_SERVICES entries: <mechanism>://<service>[@<domain>][/<interface>][?label=value&...]
// (components.md §5); `service@domain` asks for a service of another domain, whose DNS name is checked here.
import { LinuxIfMaxLength } from '@nsm/api';
import { checkDomain, isInterdomain } from '@nsm/sdk/input/interdomain';

export interface ServiceRequestSpec {
  mechanism: string;
  networkService: string;
  interfaceName: string;
  labels: Record<string, string>;
}

export function parseServiceUrl(raw: string, defaultMechanism: string): ServiceRequestSpec {
  const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/?#:]+)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(raw.trim());
  if (!m) throw new Error(`invalid network service URL "${raw}" (want kernel://<service>[/<interface>][?k=v])`);
  const [, scheme, service, path, query] = m;
  const interfaceName = decodeURIComponent((path ?? '').split('/').filter(Boolean).pop() ?? '');
  if (interfaceName.length > LinuxIfMaxLength) {
    throw new Error(`network service URL "${raw}": interface name "${interfaceName}" is longer than ${LinuxIfMaxLength} characters`);
  }
  const networkService = decodeURIComponent(service);
  if (isInterdomain(networkService)) {
    try {
      checkDomain('service', networkService);
    } catch (err) {
      throw new Error(`network service URL "${raw}": ${(err as Error).message}`);
    }
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query ?? '')) labels[k] = v;
  return { mechanism: (scheme ?? defaultMechanism).toUpperCase(), networkService, interfaceName, labels };
}
