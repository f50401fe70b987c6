// HTTPS server: POST /mutate answers AdmissionReviews, GET /ready says 200 (readiness probe).
import { rmSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@nsm/sdk/log';
import { BadReviewError, MutationSettings, parseReview, review } from './mutate';

const MAX_BODY = 8 * 1024 * 1024;

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new BadReviewError(`body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function handler(settings: MutationSettings, log: Logger) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    try {
      if (path === '/ready' && req.method === 'GET') return send(res, 200, 'ok');
      if (path !== '/mutate') return send(res, 404, `no such path ${path}\n`);
      if (req.method !== 'POST') return send(res, 405, 'POST an admission.k8s.io/v1 AdmissionReview\n');
      const raw = await readBody(req);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (e) {
        throw new BadReviewError(`body is not JSON: ${(e as Error).message}`);
      }
      const request = parseReview(body);
      const { response, patch } = review(request, settings);
      log.info(
        { uid: request.uid, kind: request.kind?.kind, namespace: request.namespace, name: request.name, operation: request.operation, allowed: response.allowed, patchOps: patch?.length ?? 0, reason: response.status?.message },
        'admission review',
      );
      return send(res, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
    } catch (e) {
      if (e instanceof BadReviewError) {
        log.warn({ path, err: e.message }, 'malformed admission review');
        return send(res, 400, `malformed AdmissionReview: ${e.message}\n`);
      }
      log.error({ path, err: (e as Error).message }, 'admission handler failed');
      return send(res, 500, 'internal error\n');
    }
  };
}

/**
 * Parses "[host]:port" ("" host = every interface), or unix:///path: a Unix socket (still HTTPS), for
 * an API server on the same machine (the local runtime: nsm-local's daemon is not on the pods' network).
 */
export function parseListen(addr: string): { host?: string; port: number; path?: string } {
  if (addr.startsWith('unix://')) {
    const path = addr.slice('unix://'.length);
    if (!path.startsWith('/')) throw new Error(`invalid listen address "${addr}" (want unix:///absolute/path)`);
    return { port: 0, path };
  }
  const m = /^(.*):(\d+)$/.exec(addr.replace(/^https?:\/\/|^tcp:\/\//, ''));
  if (!m) throw new Error(`invalid listen address "${addr}" (want [host]:port)`);
  const host = m[1].replace(/^\[(.*)\]$/, '$1');
  return { host: host || undefined, port: Number(m[2]) };
}

export async function listen(opts: { listenOn: string; certPem: string; keyPem: string; settings: MutationSettings; log: Logger }): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const { host, port, path } = parseListen(opts.listenOn);
  if (path) rmSync(path, { force: true });
  const h = handler(opts.settings, opts.log);
  const server = createServer({ cert: opts.certPem, key: opts.keyPem, minVersion: 'TLSv1.2' }, (req, res) => void h(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve();
    };
    if (path) server.listen(path, ready);
    else server.listen(port, host, ready);
  });
  return {
    server,
    port: path ? 0 : (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
