// cmd-admission-webhook: injects the NSM client containers into annotated pods (components.md §7).
import { runCommand } from '@nsm/sdk/cmd/run';
import { log } from '@nsm/sdk/log';
import { Config, schema } from './config';
import { MutationSettings } from './mutate';
import { clusterConfig, register, webhookConfiguration } from './register';
import { listen } from './server';
import { servingCert } from './tls';

/**
 * The images it must inject, checked before it serves: without a sidecar image an annotated pod would
 * be admitted with no NSM client at all (upstream's default: silently). The init image is optional:
 * it only makes the first Request before the app starts (nsm-ts has no cmd-nsc-init).
 */
export function checkImages(cfg: Pick<Config, 'containerImages'>): void {
  if (cfg.containerImages.length > 0) return;
  throw new Error(
    'NSM_CONTAINER_IMAGES is not set: annotated pods would be admitted without an NSM client. Set it to the cmd-nsc image, e.g. NSM_CONTAINER_IMAGES=ghcr.io/nsm-ts/cmd-nsc:v0.1.0 (NSM_INIT_CONTAINER_IMAGES, optional, adds init containers)',
  );
}

export function mutationSettings(cfg: Config): MutationSettings {
  checkImages(cfg);
  const envs = cfg.envs.map((e) => {
    const i = e.indexOf('=');
    if (i <= 0) throw new Error(`NSM_ENVS entry "${e}" is not KEY=VALUE`);
    return { name: e.slice(0, i), value: e.slice(i + 1) };
  });
  return {
    annotation: cfg.annotation,
    labels: cfg.labels,
    nsurlEnvName: cfg.nsurlEnvName,
    initContainerImages: cfg.initContainerImages,
    containerImages: cfg.containerImages,
    envs,
    corednsImage: cfg.corednsImage,
  };
}

/** Starts the server and the registration; resolves with the stop function and the bound port. */
export async function start(cfg: Config, env: NodeJS.ProcessEnv = process.env): Promise<{ stop(): Promise<void>; port: number; caBundlePem: string }> {
  const settings = mutationSettings(cfg);
  const tls = servingCert({ certFile: cfg.certFilePath, keyFile: cfg.keyFilePath, caBundleFile: cfg.caBundleFilePath, service: cfg.serviceName, namespace: cfg.namespace });
  const srv = await listen({ listenOn: cfg.listenOn, certPem: tls.certPem, keyPem: tls.keyPem, settings, log });
  log.info({ listenOn: cfg.listenOn, port: srv.port, cert: tls.source }, 'serving HTTPS: POST /mutate, GET /ready');

  let unregister: (() => Promise<void>) | undefined;
  const cluster = cfg.register ? clusterConfig(env) : undefined;
  if (!cfg.register) log.info('NSM_REGISTER=false: not registering a MutatingWebhookConfiguration');
  else if (!cluster) log.info('no Kubernetes cluster configured (not in a pod, no KUBECONFIG, no ~/.kube/config): skipping MutatingWebhookConfiguration registration');
  else {
    try {
      unregister = await register(webhookConfiguration({ ...cfg, caBundlePem: tls.caBundlePem }));
      log.info({ name: cfg.name, cluster }, 'registered MutatingWebhookConfiguration');
    } catch (e) {
      await srv.close();
      throw new Error(`registering MutatingWebhookConfiguration ${cfg.name}: ${(e as Error).message}`);
    }
  }
  return {
    port: srv.port,
    caBundlePem: tls.caBundlePem,
    stop: async () => {
      if (unregister) {
        await unregister();
        log.info({ name: cfg.name }, 'deleted MutatingWebhookConfiguration');
      }
      await srv.close();
    },
  };
}

if (require.main === module) {
  void runCommand({
    name: 'cmd-admission-webhook',
    description: 'Kubernetes mutating admission webhook: adds NSM client containers, volumes and labels to pods annotated with network service URLs.',
    schema,
    helpFooter: 'Annotation value: comma-separated <mechanism>://<network-service>[@<domain>][/<interface>][?<label>=<value>&...] URLs, e.g. kernel://icmp-responder/nsm-1',
    start: async (cfg) => (await start(cfg)).stop,
  });
}
