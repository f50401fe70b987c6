// The KERNEL mechanism at the edges (api.md §4.4): the client offers an interface name and the network
// namespace it lives in; the endpoint, once KERNEL is selected, fills in its own.
import { LinuxIfMaxLength, Mechanism, MechanismClass, MechanismType, Param } from '@nsm/api';
import { statSync } from 'node:fs';
import type { NetworkServiceElement } from '../../core/networkservice';

/** First 10 characters of the service, "-", the connection id; cut to 15 characters. */
export function derivedInterfaceName(networkService: string, connId: string): string {
  return `${networkService.slice(0, LinuxIfMaxLength - 5)}-${connId}`.slice(0, LinuxIfMaxLength);
}

/**
 * This process's network namespace as upstream NSM passes it around: inode://<dev>/<ino> of
 * /proc/self/ns/net. A pid would mean another process to a forwarder in another PID namespace; the
 * namespace's identity is the same in every one.
 */
export function ownNetnsUrl(): string {
  const st = statSync('/proc/self/ns/net');
  return `inode://${st.dev}/${st.ino}`;
}

export function kernelMechanismClient(opts: { interfaceName?: string; netnsUrl?: string } = {}): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const conn = req.connection!;
      const name = opts.interfaceName || derivedInterfaceName(conn.networkService, conn.id);
      const netns = opts.netnsUrl ?? ownNetnsUrl();
      const kernels = req.mechanismPreferences.filter((m) => m.type === MechanismType.KERNEL);
      if (kernels.length === 0) {
        req.mechanismPreferences.push(Mechanism.fromPartial({ cls: MechanismClass.LOCAL, type: MechanismType.KERNEL, parameters: {} }));
      }
      for (const m of req.mechanismPreferences.filter((p) => p.type === MechanismType.KERNEL)) {
        m.parameters[Param.inodeURL] = netns;
        if (!m.parameters[Param.name]) m.parameters[Param.name] = name;
      }
      return next.request(ctx, req);
    },
  };
}

export function kernelMechanismServer(opts: { interfaceName?: string; netnsUrl?: string } = {}): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const conn = req.connection!;
      const m = conn.mechanism;
      if (m?.type === MechanismType.KERNEL) {
        m.parameters[Param.inodeURL] = opts.netnsUrl ?? ownNetnsUrl();
        m.parameters[Param.name] = opts.interfaceName || derivedInterfaceName(conn.networkService, conn.id);
      }
      return next.request(ctx, req);
    },
  };
}
