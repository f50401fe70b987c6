// deployments-k8s: every kustomize base and overlay builds offline with `kubectl kustomize`, every
// rendered object validates (see k8s-schema.ts for what that covers), the CRD copies equal
// shared/sdk-k8s/crds, and sample NetworkService / NetworkServiceEndpoint objects validate against
// the CRDs' own openAPIV3Schema.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkStructural, parseAll, validateObject, validateOpenApi } from './k8s-schema';

const root = join(__dirname, '..');
const dk = join(root, 'deployments-k8s');
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p)) ?? (spawnSync('which', ['kubectl']).stdout?.toString().trim() || '');

function kustomizations(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...kustomizations(p));
    else if (e === 'kustomization.yaml') out.push(dir);
  }
  return out.sort();
}
const dirs = kustomizations(dk).map((d) => relative(dk, d));
const rendered = new Map<string, Record<string, any>[]>();
function render(dir: string) {
  let objs = rendered.get(dir);
  if (!objs) {
    objs = parseAll(execFileSync(kubectl, ['kustomize', join(dk, dir)], { encoding: 'utf8' }));
    rendered.set(dir, objs);
  }
  return objs;
}

const makefile = readFileSync(join(root, 'Makefile'), 'utf8');
const CMDS = /^CMDS\s*:=\s*(.*)$/m.exec(makefile)![1].trim().split(/\s+/);
const REGISTRY = /^REGISTRY\s*\?=\s*(.*)$/m.exec(makefile)![1].trim();

test('kubectl is installed (needed to build the kustomizations)', () => {
  expect(kubectl).not.toBe('');
});

test('the expected bases and overlays exist', () => {
  expect(existsSync(join(dk, 'examples', 'spire', 'README.md'))).toBe(true);
  for (const d of ['apps/spire', 'apps/nsmgr', 'apps/forwarder-ovs', 'apps/forwarder-vpp', 'apps/registry-k8s', 'apps/admission-webhook-k8s', 'apps/nsc-kernel', 'apps/nse-kernel', 'apps/nse-supplier-k8s', 'examples/basic', 'examples/use-cases/Kernel2Kernel']) expect(dirs).toContain(d);
});

describe.each(dirs)('%s', (dir) => {
  test('builds with kubectl kustomize and every object validates', () => {
    const objs = render(dir);
    expect(objs.length).toBeGreaterThan(0);
    const errors = objs.flatMap((o) => validateObject(o));
    expect(errors).toEqual([]);
  });

  test(`NSM images are ${REGISTRY}/<cmd>:<tag> for a cmd of the Makefile's images target`, () => {
    for (const o of render(dir)) {
      const spec = o.spec?.template?.spec;
      for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
        if (!c.image.startsWith(`${REGISTRY}/`)) continue;
        const m = /^[^/]+\/[^/]+\/([^:@]+):([\w][\w.-]*)$/.exec(c.image);
        expect(m).not.toBeNull();
        expect(CMDS).toContain(m![1]);
      }
      for (const e of spec?.containers?.flatMap((c: any) => c.env ?? []) ?? []) {
        if (e.name !== 'NSM_CONTAINER_IMAGES' && e.name !== 'NSM_INIT_CONTAINER_IMAGES') continue;
        for (const img of (e.value as string).split(',').filter(Boolean)) expect(CMDS).toContain(/\/([^/:@]+)[:@]/.exec(img)![1]);
      }
    }
  });
});

test('the basic overlay puts every namespaced object (and the RBAC subjects) into nsm-system', () => {
  const objs = render('examples/basic');
  const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Namespace']);
  for (const o of objs) if (!clusterScoped.has(o.kind)) expect(`${o.kind}/${o.metadata.name} ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} nsm-system`);
  for (const o of objs.filter((x) => x.kind === 'ClusterRoleBinding')) for (const s of o.subjects) expect(s.namespace).toBe('nsm-system');
  const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  expect(kinds).toEqual(
    expect.arrayContaining(['DaemonSet/nsmgr', 'DaemonSet/forwarder-vpp', 'Deployment/registry-k8s', 'Service/registry', 'Deployment/admission-webhook-k8s', 'Service/admission-webhook-svc', 'CustomResourceDefinition/networkservices.networkservicemesh.io', 'CustomResourceDefinition/networkserviceendpoints.networkservicemesh.io']),
  );
});

test('Kernel2Kernel: client and endpoint get their service URL, CIDR and co-location', () => {
  const objs = render('examples/use-cases/Kernel2Kernel');
  const nsc = objs.find((o) => o.metadata.name === 'nsc-kernel')!;
  const nse = objs.find((o) => o.metadata.name === 'nse-kernel')!;
  const env = (o: any, c: string) => Object.fromEntries(o.spec.template.spec.containers.find((x: any) => x.name === c).env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
  expect(env(nsc, 'nsc').NSM_NETWORK_SERVICES).toBe('kernel://icmp-responder/nsm-1');
  expect(env(nsc, 'nsc').SPIFFE_ENDPOINT_SOCKET).toBe('unix:///run/spire/sockets/agent.sock');
  expect(env(nse, 'nse').NSM_CIDR_PREFIX).toBe('172.16.1.100/31');
  expect(nsc.spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels).toEqual({ app: 'nse-kernel' });
});

describe('CRDs', () => {
  const shared = join(root, 'shared', 'sdk-k8s', 'crds');
  const copies = join(dk, 'apps', 'registry-k8s');

  test('apps/registry-k8s holds byte-for-byte copies of shared/sdk-k8s/crds/*.yaml', () => {
    if (!existsSync(shared)) {
      console.log(`skipping the CRD copy check: ${shared} does not exist yet`);
      return;
    }
    const files = readdirSync(shared).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const kustomization = readFileSync(join(copies, 'kustomization.yaml'), 'utf8');
    for (const f of files) {
      const hint = `deployments-k8s/apps/registry-k8s/${f} differs from shared/sdk-k8s/crds/${f}: run cp shared/sdk-k8s/crds/*.yaml deployments-k8s/apps/registry-k8s/`;
      expect({ file: f, same: existsSync(join(copies, f)) && readFileSync(join(copies, f)).equals(readFileSync(join(shared, f))) ? true : hint }).toEqual({ file: f, same: true });
      expect(kustomization).toMatch(new RegExp(`^\\s*-\\s*${f.replace('.', '\\.')}\\s*$`, 'm'));
    }
  });

  const crds = () => render('apps/registry-k8s').filter((o) => o.kind === 'CustomResourceDefinition');
  const schemaOf = (kind: string) => {
    const crd = crds().find((c) => c.spec.names.kind === kind)!;
    expect(crd).toBeDefined();
    const v = crd.spec.versions.find((x: any) => x.served && x.storage);
    return { crd, version: v.name as string, schema: v.schema.openAPIV3Schema };
  };
  const check = (kind: string, obj: any) => {
    const { crd, version, schema } = schemaOf(kind);
    const errors: string[] = [];
    if (obj.apiVersion !== `${crd.spec.group}/${version}`) errors.push(`apiVersion ${obj.apiVersion}`);
    if (obj.kind !== crd.spec.names.kind) errors.push(`kind ${obj.kind}`);
    const { metadata, apiVersion: _a, kind: _k, ...rest } = obj;
    if (!metadata?.name) errors.push('metadata.name');
    validateOpenApi(rest, schema, kind, errors);
    return errors;
  };

  test('CRD names, scope and structural schemas (components.md §2)', () => {
    const byKind = Object.fromEntries(crds().map((c) => [c.spec.names.kind, c]));
    expect(byKind.NetworkService.metadata.name).toBe('networkservices.networkservicemesh.io');
    expect(byKind.NetworkService.spec.names).toMatchObject({ listKind: 'NetworkServiceList', plural: 'networkservices', singular: 'networkservice', shortNames: ['netsvc', 'netsvcs'] });
    expect(byKind.NetworkServiceEndpoint.metadata.name).toBe('networkserviceendpoints.networkservicemesh.io');
    expect(byKind.NetworkServiceEndpoint.spec.names).toMatchObject({ listKind: 'NetworkServiceEndpointList', plural: 'networkserviceendpoints', singular: 'networkserviceendpoint', shortNames: ['nse', 'nses'] });
    for (const c of crds()) {
      expect(c.spec.scope).toBe('Namespaced');
      expect(c.spec.group).toBe('networkservicemesh.io');
      const errors: string[] = [];
      for (const v of c.spec.versions) checkStructural(v.schema.openAPIV3Schema, c.metadata.name, errors);
      expect(errors).toEqual([]);
    }
  });

  test('sample NetworkService and NetworkServiceEndpoint validate against the CRD schemas', () => {
    const ns = {
      apiVersion: 'networkservicemesh.io/v1',
      kind: 'NetworkService',
      metadata: { name: 'autoscale-icmp-responder' },
      spec: {
        name: 'autoscale-icmp-responder',
        payload: 'ETHERNET',
        matches: [
          { source_selector: {}, fallthrough: true, routes: [{ destination_selector: { app: 'nse-icmp-responder', nodeName: '{{.nodeName}}' } }] },
          { source_selector: {}, routes: [{ destination_selector: { app: 'icmp-responder-supplier' }, weight: 1 }], metadata: { labels: { p2p: 'true' } } },
        ],
      },
    };
    const nse = {
      apiVersion: 'networkservicemesh.io/v1',
      kind: 'NetworkServiceEndpoint',
      metadata: { name: 'nse-kernel-5d8f7c-abcde', namespace: 'nsm-system' },
      spec: {
        name: 'nse-kernel-5d8f7c-abcde',
        network_service_names: ['icmp-responder'],
        network_service_labels: { 'icmp-responder': { labels: { app: 'nse-kernel', nodeName: 'kind-worker' } } },
        url: 'tcp://10.244.1.4:5001',
        expiration_time: { seconds: 1767225600, nanos: 123000000 },
      },
    };
    expect(check('NetworkService', ns)).toEqual([]);
    expect(check('NetworkServiceEndpoint', nse)).toEqual([]);
    // The validator is not vacuous: wrongly typed known fields are caught.
    expect(check('NetworkService', { ...ns, spec: { ...ns.spec, matches: 'all' } })).not.toEqual([]);
    expect(check('NetworkServiceEndpoint', { ...nse, spec: { ...nse.spec, expiration_time: { seconds: 'soon' } } })).not.toEqual([]);
    expect(check('NetworkServiceEndpoint', { ...nse, spec: { ...nse.spec, network_service_names: 'icmp-responder' } })).not.toEqual([]);
    expect(check('NetworkServiceEndpoint', { ...nse, bogus: 1 })).not.toEqual([]);
  });
});

test('the object validator is not vacuous', () => {
  const dep = render('apps/nsc-kernel').find((o) => o.kind === 'Deployment')!;
  const bad = structuredClone(dep);
  bad.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
  bad.spec.template.spec.containers[0].ports = [{ containerPort: '5001' }];
  bad.spec.template.spec.containers[0].volumeMount = [];
  bad.spec.template.spec.containers[0].volumeMounts.push({ name: 'nope', mountPath: '/x' });
  delete bad.spec.selector;
  const errors = validateObject(bad).join('\n');
  expect(errors).toMatch(/imagePullPolicy="Sometimes"/);
  expect(errors).toMatch(/containerPort: want number/);
  expect(errors).toMatch(/unknown field "volumeMount"/);
  expect(errors).toMatch(/undeclared volume nope/);
  expect(errors).toMatch(/missing required field "selector"/);
});

describe('identity (SPIFFE)', () => {
  const AGENT_SOCKET = '/run/spire/sockets';
  const nsmWorkloads = () =>
    dirs
      .filter((d) => d.startsWith('apps/') && d !== 'apps/spire')
      .flatMap((d) => render(d))
      .filter((o) => o.spec?.template?.spec)
      .flatMap((o) => (o.spec.template.spec.containers as any[]).filter((c) => c.image.startsWith(`${REGISTRY}/`) && !c.image.includes('cmd-admission-webhook')).map((c) => ({ o, c })));

  test('every NSM container names the SPIRE agent socket in SPIFFE_ENDPOINT_SOCKET and mounts it from the node', () => {
    const ws = nsmWorkloads();
    expect(ws.map(({ c }) => /\/([^/:]+):/.exec(c.image)![1]).sort()).toEqual(
      expect.arrayContaining(['cmd-forwarder-ovs', 'cmd-forwarder-vpp', 'cmd-nsc', 'cmd-nse-icmp-responder', 'cmd-nsmgr', 'cmd-registry-k8s']),
    );
    for (const { o, c } of ws) {
      const where = `${o.kind}/${o.metadata.name} ${c.name}`;
      const env = Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));
      expect({ where, socket: env.SPIFFE_ENDPOINT_SOCKET }).toEqual({ where, socket: `unix://${AGENT_SOCKET}/agent.sock` });
      const mount = (c.volumeMounts ?? []).find((m: any) => m.mountPath === AGENT_SOCKET);
      expect({ where, mounted: !!mount }).toEqual({ where, mounted: true });
      const volume = o.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
      expect({ where, hostPath: volume.hostPath?.path }).toEqual({ where, hostPath: AGENT_SOCKET });
      expect({ where, label: o.spec.template.metadata.labels['spiffe.io/spiffe-id'] }).toEqual({ where, label: 'true' });
    }
  });

  test('exec probes check gRPC health with the pod\'s SVID (the bundle\'s health-probe), not a bare socket', () => {
    let probes = 0;
    for (const { o, c } of nsmWorkloads()) {
      for (const p of ['readinessProbe', 'livenessProbe']) {
        const cmd = c[p]?.exec?.command as string[] | undefined;
        if (!c[p]) continue;
        probes++;
        expect({ where: `${o.metadata.name} ${p}`, cmd }).toEqual({ where: `${o.metadata.name} ${p}`, cmd: ['node', expect.stringMatching(/^\/bin\/cmd-[a-z0-9-]+\.js$/), 'health-probe', expect.stringMatching(/^(unix|tcp):\/\//)] });
        expect(cmd![1]).toBe(`/bin/${/\/([^/:]+):/.exec(c.image)![1]}.js`);
      }
    }
    expect(probes).toBeGreaterThanOrEqual(5);
  });

  test('SPIRE: a server StatefulSet and an agent DaemonSet serving the Workload API on the node, one trust domain', () => {
    const objs = render('apps/spire');
    const server = objs.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'spire-server')!;
    const agent = objs.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'spire-agent')!;
    expect(server.metadata.namespace).toBe('spire');
    expect(agent.spec.template.spec.hostPID).toBe(true);
    const socketVolume = agent.spec.template.spec.volumes.find((v: any) => v.hostPath?.path === AGENT_SOCKET);
    expect(socketVolume).toBeDefined();
    expect(agent.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === socketVolume.name).mountPath).toBe(AGENT_SOCKET);
    const conf = (name: string, key: string) => objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)!.data[key] as string;
    const td = (text: string) => /trust_domain = "([^"]+)"/.exec(text)?.[1];
    expect(td(conf('spire-server', 'server.conf'))).toBe('example.org');
    expect(td(conf('spire-agent', 'agent.conf'))).toBe('example.org');
    expect(conf('spire-agent', 'agent.conf')).toContain(`socket_path = "${AGENT_SOCKET}/agent.sock"`);
    // SVIDs are EC P-256 by SPIRE's default; the CA too here.
    expect(conf('spire-server', 'server.conf')).toContain('ca_key_type = "ec-p256"');
  });

  test('interdomain SPIRE: two trust domains, each federated with the other through its bundle endpoint', () => {
    for (const [n, m] of [
      [1, 2],
      [2, 1],
    ]) {
      const objs = render(`examples/interdomain/spire/cluster${n}`);
      const conf = (name: string, key: string) => objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)!.data[key] as string;
      const server = conf('spire-server', 'server.conf');
      expect(/trust_domain = "([^"]+)"/.exec(server)?.[1]).toBe(`nsm.cluster${n}`);
      expect(/trust_domain = "([^"]+)"/.exec(conf('spire-agent', 'agent.conf'))?.[1]).toBe(`nsm.cluster${n}`);
      expect(server).toMatch(/bundle_endpoint \{\s*address = "0.0.0.0"\s*port = 8443/);
      expect(server).toContain(`federates_with "nsm.cluster${m}"`);
      expect(server).toContain(`endpoint_spiffe_id = "spiffe://nsm.cluster${m}/spire/server"`);
      const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'spire-server-bundle-endpoint')!;
      expect(svc.spec.ports.map((p: any) => p.port)).toEqual([8443]);
      const sts = objs.find((o) => o.kind === 'StatefulSet')!;
      expect(sts.spec.template.spec.containers[0].ports.map((p: any) => p.containerPort)).toContain(8443);
    }
    const readme = readFileSync(join(dk, 'examples', 'interdomain', 'spire', 'README.md'), 'utf8');
    expect(readme).toContain('-federatesWith spiffe://nsm.cluster${m}');
    expect(readme).toContain('bundle set -format spiffe -id spiffe://nsm.cluster1');
  });

  test('the spire example registers every service account the nsm-system manifests run under', () => {
    const readme = readFileSync(join(dk, 'examples', 'spire', 'README.md'), 'utf8');
    const registered = /for sa in ([^;]+); do/.exec(readme)![1].trim().split(/\s+/);
    const used = new Set(
      ['apps/nsmgr', 'apps/forwarder-vpp', 'apps/forwarder-ovs', 'apps/registry-k8s']
        .flatMap((d) => render(d))
        .filter((o) => o.spec?.template?.spec)
        .map((o) => o.spec.template.spec.serviceAccountName ?? 'default'),
    );
    for (const sa of used) expect(registered).toContain(sa);
  });
});
