// clientinfo (NSE server; nsmgr): adds nodeName / podName / clusterName, taken from NODE_NAME /
// POD_NAME / CLUSTER_NAME, to every label map the NSE already declares, never overwriting a label the
// NSE set itself. This is what lets NS matches select endpoints by node.
import type { NetworkServiceEndpoint } from '@nsm/api';
import { Label } from '@nsm/api';
import type { RegistryElement } from '../../core/registry';

export function clientInfo(env: NodeJS.ProcessEnv = process.env): RegistryElement<NetworkServiceEndpoint> {
  const add: [string, string | undefined][] = [
    [Label.nodeName, env.NODE_NAME],
    [Label.podName, env.POD_NAME],
    [Label.clusterName, env.CLUSTER_NAME],
  ];
  return {
    register(ctx, nse, next) {
      const labels: NetworkServiceEndpoint['networkServiceLabels'] = {};
      for (const [svc, l] of Object.entries(nse.networkServiceLabels ?? {})) {
        const merged = { ...(l?.labels ?? {}) };
        for (const [k, v] of add) if (v && !(k in merged)) merged[k] = v;
        labels[svc] = { labels: merged };
      }
      return next.register(ctx, { ...nse, networkServiceLabels: labels });
    },
  };
}
