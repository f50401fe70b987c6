// Reading Kubernetes API failures. The client throws an ApiException carrying the HTTP code and the
// body (a Status object, sometimes still as text); the watch helper throws an Error with statusCode.
// Registry callers see gRPC codes, so the failures are mapped onto StatusError here.
import { alreadyExists, Code, StatusError } from '@nsm/sdk/core/errors';

export interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** The HTTP status of a failed API call, or undefined for a transport error. */
export function httpCode(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** The Status object the API server sent with a failure, when there is one. */
export function kubeStatus(err: unknown): KubeStatus | undefined {
  let body = (err as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? (body as KubeStatus) : undefined;
}

const byHttp: Record<number, Code> = {
  400: Code.INVALID_ARGUMENT,
  401: Code.UNAUTHENTICATED,
  403: Code.PERMISSION_DENIED,
  404: Code.NOT_FOUND,
  409: Code.ABORTED,
  410: Code.ABORTED,
  422: Code.INVALID_ARGUMENT,
  429: Code.RESOURCE_EXHAUSTED,
};

export function toStatusError(err: unknown, what: string): StatusError {
  if (err instanceof StatusError) return err;
  const http = httpCode(err);
  const st = kubeStatus(err);
  const detail = st?.message ?? (err instanceof Error ? err.message.split('\n')[0] : String(err));
  const code = http === undefined ? Code.UNAVAILABLE : (byHttp[http] ?? (http >= 500 ? Code.UNAVAILABLE : Code.UNKNOWN));
  if (st?.reason === 'AlreadyExists') return alreadyExists(`${what}: ${detail}`, err);
  return new StatusError(code, `${what}: ${detail}`, { cause: err });
}
