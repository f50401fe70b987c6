// The MutatingWebhookConfiguration it owns (components.md §7): created (or replaced) at start,
// deleted at exit, only when a Kubernetes cluster is configured.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { V1MutatingWebhookConfiguration } from '@kubernetes/client-node';

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** How a cluster is configured, or undefined: in-cluster, then $KUBECONFIG, then ~/.kube/config. */
export function clusterConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) return 'in-cluster';
  const files = (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (files.some((f) => existsSync(f))) return `KUBECONFIG=${env.KUBECONFIG}`;
  const home = env.HOME ?? homedir();
  if (home && existsSync(join(home, '.kube', 'config'))) return join(home, '.kube', 'config');
  return undefined;
}

export function webhookConfiguration(o: { name: string; annotation: string; serviceName: string; namespace: string; caBundlePem: string }): V1MutatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: o.name },
    webhooks: [
      {
        name: `${o.name}.${o.annotation}`,
        // Same rules as upstream v1.1.1; the second names an API group that does not exist, so in
        // practice only Pods are sent (a template mutated here would be mutated again as its Pods).
        rules: [
          { operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
          { operations: ['CREATE', 'UPDATE'], apiGroups: ['extensions'], apiVersions: ['v1'], resources: ['deployments'] },
        ],
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
        clientConfig: {
          service: { namespace: o.namespace, name: o.serviceName, path: '/mutate' },
          caBundle: Buffer.from(o.caBundlePem).toString('base64'),
        },
      },
    ],
  };
}

/** Creates the configuration, replacing one of the same name (a restarted container keeps its pod name). */
export async function register(body: V1MutatingWebhookConfiguration): Promise<() => Promise<void>> {
  // Loaded only when a cluster is configured: @kubernetes/client-node 2.x pulls undici 8, which
  // is loaded lazily: only a configured cluster needs it.
  let k8s: typeof import('@kubernetes/client-node');
  try {
    k8s = await import('@kubernetes/client-node');
  } catch (e) {
    throw new Error(`cannot load @kubernetes/client-node under Node ${process.version} (its undici 8 needs Node >= 22.19): ${(e as Error).message}`);
  }
  const { AdmissionregistrationV1Api, KubeConfig } = k8s;
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const name = body.metadata!.name!;
  try {
    await api.createMutatingWebhookConfiguration({ body });
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
    const old = await api.readMutatingWebhookConfiguration({ name });
    await api.replaceMutatingWebhookConfiguration({ name, body: { ...body, metadata: { ...body.metadata, resourceVersion: old.metadata?.resourceVersion } } });
  }
  return async () => {
    try {
      await api.deleteMutatingWebhookConfiguration({ name });
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
    }
  };
}
