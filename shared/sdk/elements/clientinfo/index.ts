// clientinfo (sdk.md §3.10): the nsmgr adds nodeName/podName/clusterName labels from its environment
// to every request, never overwriting; selection templates such as {{.nodeName}} rely on them.
import { Label } from '@nsm/api';
import type { NetworkServiceElement } from '../../core/networkservice';

export function clientInfoLabels(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.NODE_NAME) out[Label.nodeName] = env.NODE_NAME;
  if (env.POD_NAME) out[Label.podName] = env.POD_NAME;
  if (env.CLUSTER_NAME) out[Label.clusterName] = env.CLUSTER_NAME;
  return out;
}

export function clientInfo(labels: Record<string, string> = clientInfoLabels()): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      const conn = req.connection!;
      conn.labels = { ...labels, ...conn.labels };
      return next.request(ctx, req);
    },
  };
}
