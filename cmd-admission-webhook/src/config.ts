// Settings of cmd-admission-webhook (components.md §7), read from flags and NSM_* variables.
import type { ConfigOf } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  name: common.name('admission-webhook-k8s', 'Name of the MutatingWebhookConfiguration it registers (the manifest sets the pod name)'),
  serviceName: { kind: 'string', env: 'NSM_SERVICE_NAME', default: 'default', description: 'Service that fronts the webhook' },
  namespace: { kind: 'string', env: 'NSM_NAMESPACE', default: 'default', description: 'Namespace of that Service' },
  annotation: { kind: 'string', env: 'NSM_ANNOTATION', default: 'networkservicemesh.io', description: 'Annotation key that triggers the mutation; its value is a comma-separated list of network service URLs' },
  labels: { kind: 'map', env: 'NSM_LABELS', default: '', description: 'Labels (key:value,...) added to every mutated pod (template)' },
  nsurlEnvName: { kind: 'string', env: 'NSM_NSURL_ENV_NAME', default: 'NSM_NETWORK_SERVICES', description: 'Env variable through which the annotation value is passed to the injected containers' },
  initContainerImages: { kind: 'list', env: 'NSM_INIT_CONTAINER_IMAGES', default: '', description: 'Images injected as init containers (optional; they run to completion before the app)' },
  containerImages: { kind: 'list', env: 'NSM_CONTAINER_IMAGES', default: '', description: 'Images injected as sidecar containers (required: it refuses to start without one, e.g. ghcr.io/nsm-ts/cmd-nsc:v0.1.0)' },
  envs: { kind: 'list', env: 'NSM_ENVS', default: '', description: 'Extra KEY=VALUE env entries for every injected NSM container' },
  corednsImage: { kind: 'string', env: 'NSM_COREDNS_IMAGE', default: 'networkservicemesh/coredns:master', description: 'Image of the injected coredns sidecar (not a setting upstream, same default)' },
  certFilePath: { kind: 'string', env: 'NSM_CERT_FILE_PATH', default: '', description: 'PEM serving certificate; with NSM_KEY_FILE_PATH it replaces the self-signed certificate' },
  keyFilePath: { kind: 'string', env: 'NSM_KEY_FILE_PATH', default: '', description: 'PEM private key of NSM_CERT_FILE_PATH' },
  caBundleFilePath: { kind: 'string', env: 'NSM_CA_BUNDLE_FILE_PATH', default: '', description: 'PEM CA bundle put in the webhook configuration when a certificate file is given (default: the certificate itself)' },
  listenOn: { kind: 'string', env: 'NSM_LISTEN_ON', default: ':443', description: 'HTTPS listen address [host]:port, or unix:///path (POST /mutate, GET /ready)' },
  register: { kind: 'bool', env: 'NSM_REGISTER', default: 'true', description: 'Create the MutatingWebhookConfiguration at start and delete it at exit when a Kubernetes cluster is configured' },
  logLevel: common.logLevel(),
} as const;

export type Config = ConfigOf<typeof schema>;
