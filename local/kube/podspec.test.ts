import { KubeError } from '@nsm/sdk-k8s/api-status';
import { launchPlan, validatePod } from './podspec';
import type { Pod } from './types';

const node = { name: 'node2', ip: '10.233.0.12', nsmSocket: '/tmp/nsm-local/x/nodes/node2/nsm.io.sock' };
const base = (over: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'nse-a', labels: { app: 'nse' }, ...over },
  spec: { nodeName: 'node2', restartPolicy: 'Never', containers: [{ name: 'nse', image: 'ghcr.io/nsm-ts/cmd-nse-icmp-responder:v0.1.0' }], ...spec },
});
const valid = (body: unknown, taken: string[] = []) => validatePod(body, 'default', (n) => taken.includes(n));
const refusal = (body: unknown, taken: string[] = []) => {
  try {
    valid(body, taken);
  } catch (e) {
    return (e as KubeError).status;
  }
  throw new Error('accepted');
};

describe('validatePod: what the API server refuses', () => {
  test.each([
    ['no containers', base({}, { containers: [] }), 422, /spec.containers: Required value/],
    ['two containers of one name', base({}, { containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }] }), 422, /containers\[1\]\.name: Duplicate value: "a"/],
    ['no image', base({}, { containers: [{ name: 'a' }] }), 422, /image: Required value/],
    ['bad restart policy', base({}, { restartPolicy: 'Sometimes' }), 422, /spec.restartPolicy: Unsupported value: "Sometimes"/],
    ['bad name', base({ name: 'Not_A_Name' }), 422, /metadata.name: Invalid value/],
    ['name too long', base({ name: 'a'.repeat(64) }), 422, /at most 63/],
    ['no name', base({ name: undefined }), 422, /name or generateName is required/],
    ['bad label value', base({ labels: { app: 'has space' } }), 422, /metadata.labels: Invalid value/],
    ['env without name', base({}, { containers: [{ name: 'a', image: 'x', env: [{ value: '1' }] }] }), 422, /env: Invalid value/],
    ['other namespace in the body', base({ namespace: 'other' }), 400, /does not match the namespace/],
    ['not a pod', { ...base(), kind: 'Service' }, 400, /does not match v1 Pod/],
    ['resourceVersion set', base({ resourceVersion: '5' }), 500, /should not be set/],
  ] as [string, unknown, number, RegExp][])('%s', (_n, body, code, msg) => {
    const st = refusal(body);
    expect(st.code).toBe(code);
    expect(st.message).toMatch(msg);
  });

  test('a taken name is 409 AlreadyExists; generateName picks a free one', () => {
    expect(refusal(base(), ['nse-a'])).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    const p = valid(base({ name: undefined, generateName: 'nse-' }));
    expect(p.metadata.name).toMatch(/^nse-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(p.spec.restartPolicy).toBe('Never');
    expect(valid(base({}, { restartPolicy: undefined })).spec.restartPolicy).toBe('Always');
  });
});

describe('launchPlan: the template onto a bundle', () => {
  const plan = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => launchPlan(valid(base(meta, spec)) as Pod, node);

  test('image → bundle; env values and field references; the hostPath socket → the node socket', () => {
    const p = plan({
      containers: [
        {
          name: 'nse',
          image: 'ghcr.io/nsm-ts/cmd-nse-icmp-responder@sha256:' + '0'.repeat(64),
          args: ['--log-level', 'debug'],
          env: [
            { name: 'NSM_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
            { name: 'NSM_CONNECT_TO', value: 'unix:///var/lib/networkservicemesh/nsm.io.sock' },
            { name: 'SPIFFE_ENDPOINT_SOCKET', value: 'unix:///run/spire/sockets/agent.sock' },
            { name: 'EMPTY' },
          ],
        },
      ],
    });
    expect(p).toEqual({
      spec: {
        name: 'nse-a',
        node: 'node2',
        command: 'nse-icmp-responder',
        args: ['--log-level', 'debug'],
        restartPolicy: 'Never',
        namespace: 'default',
        labels: { app: 'nse' },
        env: { NSM_NAME: 'nse-a', NODE: 'node2', APP: 'nse', HOST: '10.233.0.12', NSM_CONNECT_TO: `unix://${node.nsmSocket}`, EMPTY: '' },
      },
    });
  });

  test.each([
    ['an image that is no bundle', { containers: [{ name: 'c', image: 'busybox:1.36' }] }, 'ErrImagePull', /"busybox:1.36" is none of this repository's bundles/],
    ['a command other than the entry point', { containers: [{ name: 'c', image: 'cmd-nsc', command: ['sh', '-c', 'sleep 1'] }] }, 'CreateContainerError', /runs only the image's entry point/],
    ['a secret in the env', { containers: [{ name: 'c', image: 'cmd-nsc', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] }, 'CreateContainerConfigError', /env X: secretKeyRef is not available/],
  ])('%s does not start: %s', (_n, spec, reason, msg) => {
    const p = plan(spec);
    expect(p).toEqual({ waiting: { reason, message: expect.stringMatching(msg) } });
  });

  test('the entry point itself is fine, with its V8 flags or without; other flags are another command', () => {
    expect(plan({ containers: [{ name: 'c', image: 'x/cmd-nsc:1', command: ['node', '/bin/cmd-nsc.js'] }] })).toMatchObject({ spec: { command: 'nsc' } });
    expect(plan({ containers: [{ name: 'c', image: 'x/cmd-nsc:1', command: ['node', '--max-semi-space-size=2', '--optimize-for-size', '/bin/cmd-nsc.js'] }] })).toMatchObject({ spec: { command: 'nsc' } });
    expect(plan({ containers: [{ name: 'c', image: 'x/cmd-nsc:1', command: ['node', '--inspect', '/bin/cmd-nsc.js'] }] })).toEqual({ waiting: { reason: 'CreateContainerError', message: expect.stringMatching(/runs only the image's entry point/) } });
  });
});
