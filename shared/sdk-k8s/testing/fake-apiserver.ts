// A small Kubernetes API server for tests: real HTTP on 127.0.0.1, real REST and watch protocol, for
// the two NSM custom resources in any namespace. It keeps the semantics a client depends on: one
// global resourceVersion, optimistic concurrency (409 Conflict), AlreadyExists, generateName, no-op
// updates that change nothing, and a bounded event history after which a watch gets 410 Expired.
// Tests can drop or hold watch streams and shrink the history to reproduce what a real cluster does.
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../codec';
import { badRequest, conflict, expired, invalid, KubeError, notFound, status, success } from './fake-status';
import { clone, key, NAME_ALPHABET, Obj, parsePath, pick, readBody, reply, Resource, RESOURCES, rfc3339, sorted, status500, strip, Target, validateName } from './fake-util';

interface HistoryEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  plural: string;
  namespace: string;
  object: Obj;
}

interface Watcher {
  plural: string;
  namespace?: string;
  bookmarks: boolean;
  res: ServerResponse;
}

export interface FakeApiServerOptions {
  /** How many events the server remembers for watches that resume from an older version. */
  historyLimit?: number;
}

export interface RequestInfo {
  method: string;
  path: string;
  watch: boolean;
}


export class FakeApiServer {
  /** Set by tests; runs before each request is handled (for example to delay one to force a race). */
  onRequest?: (info: RequestInfo) => void | Promise<void>;
  readonly requests: RequestInfo[] = [];
  historyLimit: number;
  /** 409 Conflict answers given so far. */
  conflicts = 0;

  private rv = 1;
  private readonly objects = new Map<string, Obj>();
  private history: HistoryEvent[] = [];
  /** Versions up to here are no longer in history. */
  private compactedRv = 0;
  private readonly watchers = new Set<Watcher>();
  private held: (() => void)[] | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    opts: FakeApiServerOptions,
  ) {
    this.historyLimit = opts.historyLimit ?? 1000;
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    // Nobody knows the port before this returns, so no request arrives before `self` exists.
    const server = createServer((req, res) => void self.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const self = new FakeApiServer(server, `http://127.0.0.1:${port}`, opts);
    return self;
  }

  /** A KubeConfig whose current context points at this server, without credentials. */
  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace }],
      currentContext: 'fake',
    });
    return kc;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Breaks every open watch stream: 'reset' destroys the socket, 'end' finishes the response. */
  dropWatches(how: 'reset' | 'end' = 'reset'): void {
    for (const w of this.watchers) {
      if (how === 'reset') w.res.destroy();
      else w.res.end();
    }
    this.watchers.clear();
  }

  /** New watch requests wait, unanswered, until releaseWatches(). */
  holdWatches(): void {
    this.held ??= [];
  }

  releaseWatches(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const go of held) go();
  }

  /** Forgets all event history, as etcd compaction does: any watch from an older version gets 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /** Sends a BOOKMARK with the current version to the watches that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const res = RESOURCES.find((r) => r.plural === w.plural) as Resource;
      this.send(w.res, 'BOOKMARK', { apiVersion: `${GROUP}/${VERSION}`, kind: res.kind, metadata: { resourceVersion: String(this.rv) } });
    }
  }

  /** The stored objects of one resource, for assertions. */
  stored(plural: string, namespace?: string): Obj[] {
    return [...this.objects.values()].filter((o) => o.__plural === plural && (!namespace || o.metadata.namespace === namespace)).map(strip);
  }

  async close(): Promise<void> {
    this.releaseWatches();
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const info: RequestInfo = { method: req.method ?? 'GET', path: url.pathname, watch: url.searchParams.get('watch') === 'true' };
    this.requests.push(info);
    try {
      const body = await readBody(req);
      await this.onRequest?.(info);
      const t = parsePath(url.pathname);
      if (info.method === 'GET' && info.watch && !t.name) return this.watch(t, url.searchParams, res);
      const out = this.dispatch(info.method, t, body);
      reply(res, out.code, out.body);
    } catch (err) {
      const st = err instanceof KubeError ? err.status : status(500, 'InternalError', String(err));
      if (st.code === 409) this.conflicts++;
      reply(res, st.code, st);
    }
  }

  private dispatch(method: string, t: Target, body: Obj | undefined): { code: number; body: unknown } {
    if (t.name === undefined) {
      if (method === 'GET') return { code: 200, body: this.list(t) };
      if (method === 'POST' && t.namespace !== undefined) return { code: 201, body: this.create(t, body) };
    } else if (t.namespace !== undefined) {
      if (method === 'GET') return { code: 200, body: strip(this.find(t)) };
      if (method === 'PUT') return { code: 200, body: this.update(t, body) };
      if (method === 'DELETE') return { code: 200, body: this.remove(t) };
    }
    throw new KubeError(status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
  }

  private find(t: Target): Obj {
    const o = this.objects.get(key(t.res.plural, t.namespace as string, t.name as string));
    if (!o) throw notFound(t.res.plural, t.name as string);
    return o;
  }

  private list(t: Target): Obj {
    return {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: t.res.listKind,
      metadata: { resourceVersion: String(this.rv), continue: '' },
      items: this.stored(t.res.plural, t.namespace),
    };
  }

  private checkBody(t: Target, body: Obj | undefined): Obj {
    if (!body || typeof body !== 'object') throw badRequest('the request body is not a JSON object');
    if (body.apiVersion !== `${GROUP}/${VERSION}` || body.kind !== t.res.kind) {
      throw badRequest(`the API version in the data (${body.apiVersion}) or kind (${body.kind}) does not match ${GROUP}/${VERSION} ${t.res.kind}`);
    }
    body.metadata ??= {};
    if (body.metadata.namespace && body.metadata.namespace !== t.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    return body;
  }

  private create(t: Target, input: Obj | undefined): Obj {
    const body = this.checkBody(t, input);
    const ns = t.namespace as string;
    const meta = body.metadata;
    if (meta.resourceVersion) throw status500('resourceVersion should not be set on objects to be created');
    if (!meta.name && meta.generateName) {
      do meta.name = meta.generateName + Array.from({ length: 5 }, () => NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)]).join('');
      while (this.objects.has(key(t.res.plural, ns, meta.name)));
    }
    validateName(t.res, meta.name);
    if (this.objects.has(key(t.res.plural, ns, meta.name))) {
      throw new KubeError(
        status(409, 'AlreadyExists', `${t.res.plural}.${GROUP} "${meta.name}" already exists`, { name: meta.name, group: GROUP, kind: t.res.plural }),
      );
    }
    const obj: Obj = clone(body);
    obj.metadata = {
      ...meta,
      namespace: ns,
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: rfc3339(),
      resourceVersion: String(++this.rv),
    };
    obj.__plural = t.res.plural;
    this.objects.set(key(t.res.plural, ns, meta.name), obj);
    this.record('ADDED', obj);
    return strip(obj);
  }

  private update(t: Target, input: Obj | undefined): Obj {
    const body = this.checkBody(t, input);
    const current = this.find(t);
    const meta = body.metadata;
    if (meta.name !== t.name) throw badRequest('the name of the object does not match the name on the URL');
    if (!meta.resourceVersion) {
      throw invalid(t.res, t.name as string, 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    }
    if (meta.resourceVersion !== current.metadata.resourceVersion) throw conflict(t.res.plural, t.name as string);
    const next: Obj = clone(body);
    // Server-owned metadata is never taken from the client.
    next.metadata = { ...meta, ...pick(current.metadata, ['namespace', 'uid', 'creationTimestamp', 'generation', 'resourceVersion']) };
    next.__plural = t.res.plural;
    if (JSON.stringify(sorted(next)) === JSON.stringify(sorted(current))) return strip(current); // no-op: no new version, no event
    if (JSON.stringify(sorted(next.spec)) !== JSON.stringify(sorted(current.spec))) next.metadata.generation = current.metadata.generation + 1;
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key(t.res.plural, t.namespace as string, t.name as string), next);
    this.record('MODIFIED', next);
    return strip(next);
  }

  private remove(t: Target): Obj {
    const current = this.find(t);
    this.objects.delete(key(t.res.plural, t.namespace as string, t.name as string));
    const gone = clone(current);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record('DELETED', gone);
    return success({ name: t.name, group: GROUP, kind: t.res.plural, uid: current.metadata.uid });
  }

  private record(type: HistoryEvent['type'], object: Obj): void {
    const ev: HistoryEvent = { rv: this.rv, type, plural: object.__plural, namespace: object.metadata.namespace, object: strip(object) };
    this.history.push(ev);
    while (this.history.length > Math.max(0, this.historyLimit)) this.compactedRv = (this.history.shift() as HistoryEvent).rv;
    for (const w of this.watchers) if (matches(w, ev)) this.send(w.res, type, ev.object);
  }

  private watch(t: Target, q: URLSearchParams, res: ServerResponse): void {
    if (!this.held) return this.startWatch(t, q, res);
    // A client that gives up while held is not served later.
    let gone = false;
    res.once('close', () => (gone = true));
    this.held.push(() => gone || this.startWatch(t, q, res));
  }

  private startWatch(t: Target, q: URLSearchParams, res: ServerResponse): void {
    const from = q.get('resourceVersion') ?? '';
    if (from !== '' && !/^\d+$/.test(from)) return reply(res, 400, badRequest(`invalid resource version: ${from}`).status);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { plural: t.res.plural, namespace: t.namespace, bookmarks: q.get('allowWatchBookmarks') === 'true', res };
    if (from === '' || from === '0') {
      // No version: the current state comes first as synthetic ADDED events.
      for (const o of this.stored(t.res.plural, t.namespace)) this.send(res, 'ADDED', o);
    } else if (Number(from) < this.compactedRv) {
      this.send(res, 'ERROR', expired(Number(from), this.compactedRv));
      res.end();
      return;
    } else {
      for (const ev of this.history) if (ev.rv > Number(from) && matches(w, ev)) this.send(res, ev.type, ev.object);
    }
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) setTimeout(() => res.end(), timeout * 1000).unref();
  }

  private send(res: ServerResponse, type: string, object: unknown): void {
    if (!res.destroyed && !res.writableEnded) res.write(JSON.stringify({ type, object }) + '\n');
  }
}

const matches = (w: Watcher, ev: HistoryEvent) => w.plural === ev.plural && (w.namespace === undefined || w.namespace === ev.namespace);
