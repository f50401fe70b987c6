// The daemon's control API: small JSON-over-HTTP on a unix socket, used by the nsm-local CLI.
import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { existsSync, unlinkSync } from 'node:fs';
import type { LocalClusters } from './clusters';
import type { LocalMesh } from './mesh';
import { splitManifests } from './kube/manifests';
import { isMultiCluster, mergeTopologies, parseClusters, topologyFrom } from './topology';

/**
 * `mesh` is the single-cluster mesh; `clusters` the multi-cluster one. The first topology applied
 * decides which one the daemon runs (`clusters:` or not); names of a multi-cluster mesh's pods and
 * processes are <cluster>/<name>.
 */
export function serveControl(mesh: LocalMesh, socket: string, onDown: () => void, clusters?: LocalClusters): Promise<Server> {
  const multi = () => (clusters?.size ?? 0) > 0;
  /** The mesh that holds `name` (cluster/name when multi-cluster), and the name there. */
  const target = (encoded: string): { mesh: LocalMesh; name: string } => {
    const name = decodeURIComponent(encoded);
    return multi() ? clusters!.resolve(name) : { mesh, name };
  };
  if (existsSync(socket)) unlinkSync(socket);
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The pod API (Kubernetes REST for core/v1 pods), with the CLI's rights.
    if (mesh.kube.api.handles(new URL(req.url ?? '/', 'http://local').pathname)) return mesh.kube.serveAdmin(req, res);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://local');
    const reply = (code: number, v: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    try {
      if (req.method === 'GET' && url.pathname === '/status') return reply(200, multi() ? clusters!.status() : mesh.status());
      if (req.method === 'POST' && url.pathname === '/apply') {
        if (clusters && isMultiCluster(body)) {
          if (mesh.status().nodes.length > 0) throw new Error('this mesh runs one cluster; bring it down before applying clusters:');
          await clusters.apply(parseClusters(body));
          return reply(200, clusters.status());
        }
        if (multi()) throw new Error('this mesh runs several clusters: apply a topology with clusters: [{name, pods, ...}]');
        // Topology documents first (they may bring the nodes up), then Kubernetes objects.
        const { topology, objects } = splitManifests(body);
        if (topology.length || objects.length === 0) await mesh.apply(mergeTopologies(topology.map(topologyFrom)));
        const created = objects.length ? await mesh.applyManifests(objects) : [];
        return reply(200, { ...mesh.status(), ...(created.length ? { created } : {}) });
      }
      const pod = /^\/pods\/([^/]+)\/delete$/.exec(url.pathname);
      if (req.method === 'POST' && pod) {
        const t = target(pod[1]);
        await t.mesh.deletePod(t.name, { force: url.searchParams.get('force') === 'true' });
        return reply(200, { deleted: decodeURIComponent(pod[1]) });
      }
      const svc = /^\/networkservices\/([^/]+)\/delete$/.exec(url.pathname);
      if (req.method === 'POST' && svc) {
        const t = target(svc[1]);
        await t.mesh.networkServices.delete(t.name);
        return reply(200, { deleted: decodeURIComponent(svc[1]) });
      }
      const sig = /^\/procs\/([^/]+)\/signal$/.exec(url.pathname);
      if (req.method === 'POST' && sig) {
        const signal = (url.searchParams.get('signal') ?? 'SIGKILL') as NodeJS.Signals;
        const name = decodeURIComponent(sig[1]);
        // The internet's own processes (dnsmasq) go by their bare name.
        const sup = multi() && !name.includes('/') ? clusters!.supervisor : undefined;
        const t = sup ? { mesh: undefined, name } : target(sig[1]);
        const supervisor = sup ?? t.mesh!.supervisor;
        if (!supervisor.signal(t.name, signal)) return reply(404, { error: `no running process "${name}" (have: ${supervisor.names().join(', ')})` });
        return reply(200, { signalled: name, signal });
      }
      if (req.method === 'POST' && url.pathname === '/down') {
        await clusters?.down();
        await mesh.down();
        // The daemon exits right after this reply: the caller waits for this pid to be gone.
        reply(200, { down: true, pid: process.pid });
        return onDown();
      }
      reply(404, { error: `unknown request ${req.method} ${url.pathname}` });
    } catch (err) {
      reply(400, { error: (err as Error).message });
    }
  };
  const server = createServer((req, res) => void serve(req, res));
  return new Promise((resolve) => server.listen(socket, () => resolve(server)));
}

export function call(socket: string, method: string, path: string, body = ''): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, json: { raw: text } });
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
