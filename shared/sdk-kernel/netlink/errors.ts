// Kernel answers as gRPC statuses. The caller says what it was doing ("create veth tapsrc-1 in netns
// X"), the kernel says why it failed (errno, and often a sentence of extended ack): together they
// read on their own in a client's error message.
import { constants } from 'node:os';
import { Code, StatusError } from '@nsm/sdk/core/errors';

const E = constants.errno;

/** errno → status code; anything unlisted is INTERNAL (a request we built that the kernel refused). */
export function codeForErrno(errno: number): Code {
  switch (errno) {
    case E.EEXIST:
    case E.EADDRINUSE:
      return Code.ALREADY_EXISTS;
    case E.ENOENT:
    case E.ENODEV:
    case E.ESRCH:
    case E.ENXIO:
    case E.EADDRNOTAVAIL:
      return Code.NOT_FOUND;
    case E.EINVAL:
    case E.ERANGE:
    case E.ENAMETOOLONG:
    case E.EAFNOSUPPORT:
    case E.ENETUNREACH:
      return Code.INVALID_ARGUMENT;
    case E.EPERM:
    case E.EACCES:
      return Code.PERMISSION_DENIED;
    case E.ENETDOWN:
      return Code.FAILED_PRECONDITION;
    case E.EOPNOTSUPP:
    case E.EPROTONOSUPPORT:
      return Code.UNIMPLEMENTED;
    case E.EBUSY:
    case E.EAGAIN:
    case E.ENOBUFS:
    case E.ENOMEM:
      return Code.RESOURCE_EXHAUSTED;
    case E.ETIMEDOUT:
      return Code.DEADLINE_EXCEEDED;
    default:
      return Code.INTERNAL;
  }
}

const NAMES = new Map<number, string>(Object.entries(E).map(([k, v]) => [v, k]));

export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

/** A failed kernel request. `errno` stays available for callers that treat some failures as success. */
export class NetlinkError extends StatusError {
  constructor(
    readonly errno: number,
    what: string,
    readonly extack?: string,
  ) {
    super(codeForErrno(errno), `${what}: ${errnoName(errno)}${extack ? ` (${extack})` : ''}`);
    this.name = 'NetlinkError';
  }
}

export function errnoIs(errno: number, ...names: (keyof typeof E)[]): boolean {
  return names.some((n) => E[n] === errno);
}

export function isErrno(e: unknown, ...names: (keyof typeof E)[]): boolean {
  return e instanceof NetlinkError && errnoIs(e.errno, ...names);
}

/** Errors thrown by the addon itself (system calls): Error with .errno and .code like Node's own. */
export function fromSystemError(e: unknown, what: string): StatusError {
  const errno = (e as { errno?: unknown })?.errno;
  if (typeof errno === 'number' && errno > 0) return new NetlinkError(errno, what, (e as Error).message);
  return StatusError.wrap(e, what);
}
