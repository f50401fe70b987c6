// The supplier's use of the Kubernetes API, through @kubernetes/client-node: create and delete pods
// in one namespace, and watch its own pods (a label selector) with a watch that resumes from the last
// version it saw. The same code talks to a cluster and to the local runtime's pod API (nsm-local).
import '@nsm/sdk-k8s/node-compat';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { httpCode, toStatusError } from '@nsm/sdk-k8s/api-errors';
import { CustomObject, ResumingWatch } from '@nsm/sdk-k8s/resuming-watch';

/** What the supplier reads of a pod (JSON from a watch, or a client-node V1Pod). */
export interface PodView {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name?: string;
      state?: {
        waiting?: { reason?: string; message?: string };
        terminated?: { exitCode?: number; reason?: string; message?: string };
      };
    }[];
  };
}

export interface PodsApi {
  create(body: Record<string, unknown>): Promise<PodView>;
  /** Deletes a pod; one that is already gone is fine. */
  delete(name: string): Promise<void>;
  /**
   * Watches the pods matching `labelSelector` until `signal` aborts: `onList` gets every full list
   * (the first, and after a lost history), `onEvent` each change.
   */
  watch(labelSelector: string, signal: AbortSignal, onList: (pods: PodView[]) => void, onEvent: (type: 'put' | 'delete', pod: PodView) => void): Promise<void>;
}

export function kubePods(kc: KubeConfig, namespace: string): PodsApi {
  const api = kc.makeApiClient(CoreV1Api);
  const watcher = new Watch(kc);
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  return {
    async create(body) {
      try {
        return (await api.createNamespacedPod({ namespace, body: body as never })) as unknown as PodView;
      } catch (err) {
        throw toStatusError(err, 'create pod');
      }
    },
    async delete(name) {
      try {
        await api.deleteNamespacedPod({ name, namespace });
      } catch (err) {
        if (httpCode(err) !== 404) throw toStatusError(err, `delete pod ${name}`);
      }
    },
    async watch(labelSelector, signal, onList, onEvent) {
      const src = {
        list: async () => {
          const res = await api.listNamespacedPod({ namespace, labelSelector });
          // client-node turns timestamps into Date objects; the supplier reads names, labels and status only.
          const items = (res.items ?? []) as unknown as CustomObject[];
          onList(items as unknown as PodView[]);
          return { items, resourceVersion: res.metadata?.resourceVersion ?? '' };
        },
        open: (resourceVersion: string, cb: (type: string, obj: CustomObject) => void, done: (err: unknown) => void) =>
          watcher.watch(path, { labelSelector, resourceVersion, allowWatchBookmarks: true }, (type: string, obj: unknown) => cb(type, obj as CustomObject), done),
      };
      try {
        await new ResumingWatch<PodView>(src, (o) => o as unknown as PodView, signal, (ev) => onEvent(ev.type, ev.item), { backoffMs: 200, maxBackoffMs: 5000 }).start();
      } catch (err) {
        throw toStatusError(err, 'watch pods');
      }
    },
  };
}
