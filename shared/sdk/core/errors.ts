// One error type that carries a gRPC status code; everything that crosses a server boundary is one.
// Make them with the helper of their status (below); the constructor is for codes known only at run time.
import { status as Code } from '@grpc/grpc-js';

export { Code };

export class StatusError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StatusError';
  }

  /** Keeps a StatusError (or a grpc-js ServiceError) as it is; anything else becomes UNKNOWN. */
  static from(err: unknown): StatusError {
    if (err instanceof StatusError) return err;
    if (isServiceError(err)) return new StatusError(err.code, err.details || err.message, { cause: err });
    if (err instanceof Error) return new StatusError(Code.UNKNOWN, err.message, { cause: err });
    return new StatusError(Code.UNKNOWN, String(err));
  }

  /** Same code, with `context` prepended to the message. */
  static wrap(err: unknown, context: string): StatusError {
    const s = StatusError.from(err);
    return new StatusError(s.code, `${context}: ${s.message}`, { cause: err });
  }
}

/** One maker per status: `invalidArgument('connection.id is empty')`, `unavailable('dial failed', err)`. */
const status =
  (code: Code) =>
  (message: string, cause?: unknown): StatusError =>
    new StatusError(code, message, cause === undefined ? undefined : { cause });

export const cancelled = status(Code.CANCELLED);
/** UNKNOWN, for completeness: StatusError.from gives it to anything that is not a status. */
export const unknownError = status(Code.UNKNOWN);
export const invalidArgument = status(Code.INVALID_ARGUMENT);
export const deadlineExceeded = status(Code.DEADLINE_EXCEEDED);
export const notFound = status(Code.NOT_FOUND);
export const alreadyExists = status(Code.ALREADY_EXISTS);
export const permissionDenied = status(Code.PERMISSION_DENIED);
export const resourceExhausted = status(Code.RESOURCE_EXHAUSTED);
export const failedPrecondition = status(Code.FAILED_PRECONDITION);
export const aborted = status(Code.ABORTED);
export const outOfRange = status(Code.OUT_OF_RANGE);
export const unimplemented = status(Code.UNIMPLEMENTED);
export const internal = status(Code.INTERNAL);
export const unavailable = status(Code.UNAVAILABLE);
export const dataLoss = status(Code.DATA_LOSS);
export const unauthenticated = status(Code.UNAUTHENTICATED);

export function isServiceError(err: unknown): err is Error & { code: Code; details: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

export function codeOf(err: unknown): Code {
  return StatusError.from(err).code;
}
