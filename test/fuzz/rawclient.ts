// Calls made of bytes: the fuzz sends what a hostile peer would, whether or not it is protobuf, to any
// method of any component's socket, and records the status that comes back. It speaks mutual TLS with
// a valid SVID of the mesh, as a pod would: what it sends is hostile, not who it is.
import * as grpc from '@grpc/grpc-js';
import type { X509Source } from '@nsm/sdk/spiffe/source';
import { spiffeChannelCredentials } from '@nsm/sdk/spiffe/tls';
import type { FuzzCase } from './generate';

const bytes = (b: Buffer) => b;

export interface Outcome {
  code: grpc.status;
  details: string;
  ms: number;
}

export class RawClient {
  private readonly client: grpc.Client;
  constructor(
    readonly url: string,
    source: X509Source,
  ) {
    const ch = spiffeChannelCredentials(source);
    // Sending is unbounded: the point is to see what the server does with too much.
    this.client = new grpc.Client(url, ch.credentials, { ...ch.options, 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  }

  call(c: FuzzCase, timeoutMs: number): Promise<Outcome> {
    const t = Date.now();
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(c.metadata)) md.set(k, v);
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve) => {
      const done = (code: grpc.status, details: string) => resolve({ code, details, ms: Date.now() - t });
      if (!c.stream) {
        this.client.makeUnaryRequest(c.method, bytes, bytes, c.body, md, { deadline }, (err) => (err ? done(err.code, err.details) : done(grpc.status.OK, '')));
        return;
      }
      const s = this.client.makeServerStreamRequest(c.method, bytes, bytes, c.body, md, { deadline });
      s.on('data', () => undefined);
      s.on('error', (err: grpc.ServiceError) => done(err.code, err.details));
      s.on('status', (st: grpc.StatusObject) => st.code === grpc.status.OK && done(grpc.status.OK, ''));
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Runs `f` over `items` with at most `n` in flight. */
export async function pool<T, R>(items: readonly T[], n: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]);
      }
    }),
  );
  return out;
}
