// @kubernetes/client-node 2.x pulls in undici 8, which uses Node 22 APIs (the third, Promise.withResolvers, is at the end):
// zlib.createZstdDecompress (only for zstd-encoded responses, which the Kubernetes API server does not
// send) and worker_threads.markAsUncloneable (a hint for structuredClone). On Node 20 loading fails
// with "Cannot read properties of undefined (reading 'bind')". Import this module before anything
// that loads @kubernetes/client-node; it is a no-op on Node 22+.
// Plain require: the module objects themselves must change, not an import-interop copy of them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const z = require('node:zlib') as { createZstdDecompress?: unknown };
if (typeof z.createZstdDecompress !== 'function') {
  try {
    z.createZstdDecompress = () => {
      throw new Error('zstd decompression needs Node 22 or later');
    };
  } catch {
    // a frozen module namespace: nothing to do
  }
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const w = require('node:worker_threads') as { markAsUncloneable?: unknown };
if (typeof w.markAsUncloneable !== 'function') {
  try {
    w.markAsUncloneable = () => undefined;
  } catch {
    // ignore
  }
}

export const k8sNodeCompat = true;

// undici 8 also calls Promise.withResolvers (Node 22).
const P = Promise as unknown as { withResolvers?: unknown };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (v: T | PromiseLike<T>) => void;
    let reject!: (e?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
