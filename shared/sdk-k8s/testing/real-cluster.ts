// Test support: runs the store conformance suite against the cluster of $KUBECONFIG, in a throwaway
// namespace per test. Opt-in only (NSM_K8S_TESTS=1), since it installs the two CRDs when missing.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig, loadYaml, V1CustomResourceDefinition } from '@kubernetes/client-node';
import type { StoreFixture } from '@nsm/sdk/testing/store.suite';
import { httpCode } from '../api-errors';
import { k8sNetworkServiceEndpointStore, k8sNetworkServiceStore } from '../store';

export const CRD_FILES = ['networkservices.yaml', 'networkserviceendpoints.yaml'].map((f) => join(__dirname, '..', 'crds', f));

export function realClusterSkipReason(env = process.env): string | undefined {
  if (env.NSM_K8S_TESTS !== '1') return 'NSM_K8S_TESTS is not 1 (set it and KUBECONFIG to test against a real cluster)';
  if (!env.KUBECONFIG) return 'KUBECONFIG is not set';
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function installCrd(ext: ApiextensionsV1Api, crd: V1CustomResourceDefinition): Promise<void> {
  const name = crd.metadata?.name as string;
  try {
    await ext.readCustomResourceDefinition({ name });
    return;
  } catch (err) {
    if (httpCode(err) !== 404) throw err;
  }
  await ext.createCustomResourceDefinition({ body: crd });
  for (let i = 0; i < 100; i++) {
    const got = await ext.readCustomResourceDefinition({ name });
    if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(200);
  }
  throw new Error(`CRD ${name} did not become Established`);
}

let crdsReady: Promise<void> | undefined;

export async function realClusterFixture(): Promise<StoreFixture> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  crdsReady ??= (async () => {
    // loadYaml gives the typed model; a plain parsed object would lose x-kubernetes-* keys in the
    // client's serializer, which only knows them by their TypeScript names.
    for (const file of CRD_FILES) await installCrd(ext, loadYaml<V1CustomResourceDefinition>(readFileSync(file, 'utf8')));
  })();
  await crdsReady;
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = `nsm-store-test-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const ns = k8sNetworkServiceStore(kc, { namespace });
  const nse = k8sNetworkServiceEndpointStore(kc, { namespace });
  return {
    ns,
    nse,
    cleanup: async () => {
      await ns.close();
      await nse.close();
      // Namespace deletion finishes in the background; nothing waits for it.
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    },
  };
}
