// A pod's way to the runtime's pod API, as a service account token and the kubernetes Service are in
// a cluster: a listener on 127.0.0.1 inside the pod's network namespace (the pod has no other network)
// served by the daemon, a bearer token that stands for the pod's service account, and a kubeconfig
// with both, which the pod finds through KUBECONFIG. @kubernetes/client-node's loadFromDefault reads
// it, so the pod's code is the one it runs in a cluster.
//
// The daemon cannot bind a socket in another network namespace itself (that is per thread, and Node
// has one); a short-lived helper started in the namespace binds it and hands the listening socket back
// over its IPC channel, then exits. The socket stays in the pod's namespace.
import { spawn } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { reply, status } from '@nsm/sdk-k8s/api-status';
import { stringify } from 'yaml';
import type { Caller } from './apiserver';

export const POD_API_HOST = '127.0.0.1';
export const POD_API_PORT = 8080;

const HELPER = `
const net = require('node:net');
const s = net.createServer();
s.on('error', (e) => process.send({ error: e.message }, () => process.exit(1)));
s.listen({ host: process.argv[1], port: Number(process.argv[2]), exclusive: true }, () => process.send({ ok: true }, s, () => process.exit(0)));
`;

/** A listening TCP socket bound inside `netns`, owned by this process. */
export function listenInNetns(netns: string, host: string, port: number, timeoutMs = 10_000): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', HELPER, host, String(port)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`binding ${host}:${port} in ${netns} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (m: { ok?: boolean; error?: string }, handle) => {
      clearTimeout(timer);
      if (m.ok && handle) resolve(handle as Server);
      else reject(new Error(`binding ${host}:${port} in ${netns}: ${m.error ?? 'no socket came back'}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`binding ${host}:${port} in ${netns}: helper exited with ${code}: ${stderr.trim()}`));
    });
  });
}

export interface PodAccess {
  /** The kubeconfig file to put in the pod's KUBECONFIG. */
  kubeconfig: string;
  close(): void;
}

export interface PodAccessOptions {
  netns: string;
  podDir: string;
  pod: string;
  namespace: string;
  serve: (req: IncomingMessage, res: ServerResponse, caller: Caller) => void;
}

/** An HTTP server that lets through only requests with the pod's token, as its service account. */
export function podApiServer(token: string, namespace: string, serve: PodAccessOptions['serve']): HttpServer {
  const caller: Caller = { admin: false, user: `system:serviceaccount:${namespace}:default`, namespace };
  const expected = Buffer.from(`Bearer ${token}`);
  return createServer((req, res) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      const st = status(401, 'Unauthorized', 'Unauthorized');
      return reply(res, st.code, st);
    }
    serve(req, res, caller);
  });
}

export async function grantPodApi(o: PodAccessOptions): Promise<PodAccess> {
  const token = randomBytes(32).toString('base64url');
  const http = podApiServer(token, o.namespace, o.serve);
  const listener = await listenInNetns(o.netns, POD_API_HOST, POD_API_PORT);
  listener.on('connection', (sock) => http.emit('connection', sock));
  const kubeconfig = join(o.podDir, 'kubeconfig');
  const server = `http://${POD_API_HOST}:${POD_API_PORT}`;
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'nsm-local', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: o.pod, user: { token } }],
      contexts: [{ name: 'nsm-local', context: { cluster: 'nsm-local', user: o.pod, namespace: o.namespace } }],
      'current-context': 'nsm-local',
    }),
    { mode: 0o600 },
  );
  return {
    kubeconfig,
    close() {
      listener.close();
      http.closeAllConnections();
      http.close();
    },
  };
}
