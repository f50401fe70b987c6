// Pods of several containers (Kubernetes manifests, webhook-mutated pods) onto processes of one pod
// namespace. Images are never pulled; each container runs from this machine:
//   image of a bundle (its last path element without tag: cmd-nsc, cmd-nse-icmp-responder,
//            cmd-nse-supplier-k8s), command absent or the image's entry point: that bundle, with args.
//            The webhook's injected ghcr.io/nsm-ts/cmd-nsc:<tag> is thus cmd-nsc.
//   any other image with a command: command + args from the host's file system (PATH of the runtime),
//            e.g. alpine with ["sleep", "infinity"] runs /usr/bin/sleep.
//   any other image without a command (its entry point is in an image we do not have, e.g. the
//            injected coredns): not run, reported waiting with ErrImageNeverPull, as a kubelet reports
//            an image it may not pull. The pod runs if one container can.
// Init containers run the same way, one by one to completion, before the containers.
import type { ContainerRun, PodSpec } from '../topology';
import { imageEntrypoint } from '../paths';
import { bundleOf, containerEnv, launchPlan, runsImageEntry, type Launch, type NoLaunch } from './podspec';
import type { Container, Pod } from './types';

type Node = { name: string; ip: string; nsmSocket: string };

/** How one container runs, or why it cannot. */
export function containerPlan(pod: Pod, c: Container, node: Node): ContainerRun | NoLaunch {
  const bundle = bundleOf(c.image ?? '');
  const env = containerEnv(pod, c, node);
  if ('waiting' in env) return env;
  if (bundle) {
    if (c.command && !runsImageEntry(c.command, bundle)) {
      return { waiting: { reason: 'CreateContainerError', message: `container ${c.name}: command ${JSON.stringify(c.command)}: the local runtime runs only the image's entry point ${JSON.stringify(imageEntrypoint(`cmd-${bundle}`))}` } };
    }
    return { name: c.name, bundle, argv: c.args ?? [], env: env.env };
  }
  if (!c.command?.length) {
    return { waiting: { reason: 'ErrImageNeverPull', message: `container ${c.name}: image "${c.image}" is not pulled by the local runtime and the container has no command to run from the host` } };
  }
  return { name: c.name, argv: [...c.command, ...(c.args ?? [])], env: env.env };
}

/** A single bundle container is a topology pod; anything else runs container by container. */
export function planPod(pod: Pod, node: Node): Launch | NoLaunch {
  const inits = (pod.spec.initContainers ?? []) as Container[];
  const only = pod.spec.containers[0];
  if (pod.spec.containers.length === 1 && inits.length === 0 && (bundleOf(only.image ?? '') || !only.command?.length)) return launchPlan(pod, node);
  const initContainers: ContainerRun[] = [];
  for (const c of inits) {
    const p = containerPlan(pod, c, node);
    // A pod whose init container cannot run never gets to its containers.
    if ('waiting' in p) return p;
    initContainers.push(p);
  }
  const plans = pod.spec.containers.map((c) => containerPlan(pod, c, node));
  const containers = plans.filter((p): p is ContainerRun => !('waiting' in p));
  const fatal = plans.find((p): p is NoLaunch => 'waiting' in p && p.waiting.reason !== 'ErrImageNeverPull');
  if (fatal) return fatal;
  if (containers.length === 0) return plans[0] as NoLaunch;
  const spec: PodSpec = {
    name: pod.metadata.name,
    node: node.name,
    command: containers.find((c) => c.bundle)?.bundle,
    env: {},
    restartPolicy: pod.spec.restartPolicy ?? 'Always',
    namespace: pod.metadata.namespace,
    labels: pod.metadata.labels ?? {},
    containers,
    initContainers,
  };
  return { spec };
}

/** The containers the runtime does not run, with why (for the pod's status). */
export function notRun(pod: Pod, node: Node): Array<{ name: string; image: string; waiting: NoLaunch['waiting'] }> {
  return pod.spec.containers.flatMap((c) => {
    const p = containerPlan(pod, c, node);
    return 'waiting' in p ? [{ name: c.name, image: c.image ?? '', waiting: p.waiting }] : [];
  });
}
