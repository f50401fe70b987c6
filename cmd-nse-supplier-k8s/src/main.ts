// cmd-nse-supplier-k8s: the endpoint of last resort for a network service. It never serves a
// connection: on a Request it starts an endpoint on the client's node from a pod template, waits until
// that endpoint registers, and fails the Request, so that the client's next attempt reaches the new
// endpoint through the NetworkService's first match. Completed pods it made are deleted.
import '@nsm/sdk-k8s/node-compat';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { NetworkServiceEndpoint } from '@nsm/api';
import { endpoint } from '@nsm/sdk/chains/endpoint';
import { registrationClient } from '@nsm/sdk/chains/registry';
import { runCommand } from '@nsm/sdk/cmd/run';
import { Context } from '@nsm/sdk/core/context';
import { nseRegistryClient } from '@nsm/sdk/grpc/registry';
import { startServer } from '@nsm/sdk/grpc/server';
import { log } from '@nsm/sdk/log';
import { schema } from './config';
import { createPod } from './element';
import { kubePods } from './pods';
import { Supplier } from './supplier';
import { readTemplate } from './template';

void runCommand({
  name: 'cmd-nse-supplier-k8s',
  description: 'Endpoint of last resort: starts an endpoint from a pod template on the client\'s node, then lets the client reach it',
  schema,
  identity: true,
  helpFooter:
    'Kubernetes access: KUBECONFIG, ~/.kube/config, or the in-cluster service account (in that order); the local runtime (nsm-local) gives its pods a KUBECONFIG.\n' +
    'The pod template should set restartPolicy: Never, NSM_NAME from metadata.name and NSM_IDLE_TIMEOUT, so that its endpoint retires when idle.',
  async start(cfg, _ctx, id) {
    const template = readTemplate(cfg.podDescriptionFile);
    for (const w of template.warnings) log.warn({ template: cfg.podDescriptionFile }, w);
    const kc = new KubeConfig();
    kc.loadFromDefault();
    log.info({ server: kc.getCurrentCluster()?.server, namespace: cfg.namespace, template: template.name }, 'kubernetes API');

    const findRegistry = nseRegistryClient(cfg.connectTo, id.source);
    const supplier = new Supplier({
      pods: kubePods(kc, cfg.namespace),
      template,
      service: cfg.serviceName,
      registry: findRegistry,
      startTimeoutMs: cfg.podStartTimeout,
      failureBackoffMs: cfg.failureBackoff,
    });
    await supplier.start();

    const tmp = cfg.listenOn ? undefined : mkdtempSync(join(tmpdir(), `${cfg.name}-`));
    const listenOn = cfg.listenOn || `unix://${join(tmp!, 'listen.on')}`;
    const nse = endpoint({ name: cfg.name, tokens: id.tokens, additional: [createPod(supplier)] });
    const server = await startServer([listenOn], nse.services(), { source: id.source });
    const registry = registrationClient({ url: cfg.connectTo, source: id.source });
    await registry.nse.register(
      Context.background(),
      NetworkServiceEndpoint.fromPartial({
        name: cfg.name,
        networkServiceNames: [cfg.serviceName],
        networkServiceLabels: { [cfg.serviceName]: { labels: { ...cfg.labels } } },
        url: listenOn,
      }),
    );
    log.info({ name: cfg.name, service: cfg.serviceName, labels: cfg.labels, url: listenOn }, 'supplier registered');
    return async () => {
      await registry.close().catch((err) => log.warn({ err: String(err) }, 'unregister failed'));
      await server.stop();
      supplier.close();
      findRegistry.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    };
  },
});
