// The local runtime's pod API: the part of the Kubernetes REST API that a controller creating pods
// uses (core/v1 pods: create, get, list, watch with resourceVersion, delete), so that a command using
// @kubernetes/client-node runs unchanged against a cluster or here. Served on the daemon's control
// socket (no credentials: the socket is root's) and inside pods given the API (kubeApi), where a
// bearer token stands for the pod's service account: it may use pods in its own namespace only, as
// the Role of upstream's supplier allows.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KubeError, reply, status } from '@nsm/sdk-k8s/api-status';
import { parseFieldSelector, parseLabelSelector } from './selectors';
import type { PodStore, WatchEvent, WatchFilter } from './store';
import type { Pod } from './types';

/** What the runtime does when the API is asked to create or delete a pod. */
export interface PodActions {
  create(namespace: string, body: unknown): Promise<Pod>;
  /** Starts a graceful delete; resolves with the pod marked for deletion. */
  delete(namespace: string, name: string, graceSeconds?: number): Promise<Pod>;
}

/** Who is calling: the runtime's own CLI (any namespace) or a pod's service account. */
export type Caller = { admin: true } | { admin: false; user: string; namespace: string };

const MAX_BODY = 1 << 20;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new KubeError(status(413, 'RequestEntityTooLarge', `the request body is larger than ${MAX_BODY} bytes`));
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new KubeError(status(400, 'BadRequest', 'the request body is not valid JSON'));
  }
}

interface Route {
  namespace?: string;
  name?: string;
}

function route(path: string): Route | undefined {
  const p = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (p[0] !== 'api' || p[1] !== 'v1') return undefined;
  if (p.length === 3 && p[2] === 'pods') return {};
  if (p[2] === 'namespaces' && p[4] === 'pods' && (p.length === 5 || p.length === 6)) return { namespace: p[3], name: p[5] };
  return undefined;
}

const VERBS: Record<string, string> = { GET: 'get', POST: 'create', DELETE: 'delete' };

function forbidden(caller: Caller, verb: string, namespace: string | undefined): KubeError {
  const who = caller.admin ? 'admin' : caller.user;
  const where = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  return new KubeError(status(403, 'Forbidden', `pods is forbidden: User "${who}" cannot ${verb} resource "pods" in API group "" ${where}`, { kind: 'pods' }));
}

export class PodApi {
  /** Watches ended by close(). */
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly store: PodStore,
    private readonly actions: PodActions,
  ) {}

  /** True when the request was for the API (and is answered); false leaves it to the caller. */
  handles(path: string): boolean {
    return path === '/api' || path === '/api/v1' || path.startsWith('/api/v1/');
  }

  async serve(req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    try {
      if (url.pathname === '/api') return reply(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      const r = route(url.pathname);
      if (!r) throw new KubeError(status(404, 'NotFound', 'the server could not find the requested resource'));
      const method = req.method ?? 'GET';
      const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
      const verb = method === 'GET' ? (r.name ? 'get' : watch ? 'watch' : 'list') : (VERBS[method] ?? method.toLowerCase());
      if (!caller.admin && r.namespace !== caller.namespace) throw forbidden(caller, verb, r.namespace);
      if (method === 'GET' && !r.name) {
        const filter: WatchFilter = {
          namespace: r.namespace,
          labels: url.searchParams.has('labelSelector') ? parseLabelSelector(url.searchParams.get('labelSelector') ?? '') : undefined,
          fields: url.searchParams.has('fieldSelector') ? parseFieldSelector(url.searchParams.get('fieldSelector') ?? '') : undefined,
        };
        if (watch) return this.watch(filter, url.searchParams, res);
        const { items, resourceVersion } = this.store.list(filter);
        return reply(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion }, items });
      }
      if (r.namespace === undefined) throw new KubeError(status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
      if (method === 'POST' && !r.name) return reply(res, 201, await this.actions.create(r.namespace, await readJson(req)));
      if (method === 'GET' && r.name) return reply(res, 200, this.store.get(r.namespace, r.name));
      if (method === 'DELETE' && r.name) {
        const opts = (await readJson(req)) as { gracePeriodSeconds?: unknown } | undefined;
        const q = url.searchParams.get('gracePeriodSeconds');
        const grace = q !== null ? Number(q) : typeof opts?.gracePeriodSeconds === 'number' ? opts.gracePeriodSeconds : undefined;
        if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw new KubeError(status(400, 'BadRequest', 'gracePeriodSeconds must be a non-negative integer'));
        return reply(res, 200, await this.actions.delete(r.namespace, r.name, grace));
      }
      throw new KubeError(status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    } catch (err) {
      const st = err instanceof KubeError ? err.status : status(500, 'InternalError', String(err));
      reply(res, st.code, st);
    }
  }

  private watch(filter: WatchFilter, q: URLSearchParams, res: ServerResponse): void {
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const from = q.get('resourceVersion') ?? '';
    if (from !== '' && !/^\d+$/.test(from)) throw new KubeError(status(400, 'BadRequest', `invalid resource version: ${from}`));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const send = (ev: WatchEvent) => {
      if (ev.type === 'BOOKMARK' && !bookmarks) return;
      if (!res.destroyed && !res.writableEnded) res.write(JSON.stringify(ev) + '\n');
    };
    let stop: () => void = () => undefined;
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const beat = setInterval(() => send(this.store.bookmark()), 60_000);
    const end = () => {
      if (ended) return;
      ended = true;
      stop();
      clearTimeout(timer);
      clearInterval(beat);
      this.open.delete(res);
      if (!res.writableEnded) res.end();
    };
    let failed = false;
    stop = this.store.watch(filter, from, (ev) => {
      send(ev);
      if (ev.type === 'ERROR') failed = true;
    });
    if (failed) return end();
    this.open.add(res);
    res.on('close', end);
    // The real server ends a watch after timeoutSeconds (or on its own after minutes); clients resume.
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timer = setTimeout(end, timeout * 1000);
  }

  /** Ends every open watch (the daemon is going down). */
  close(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }
}
