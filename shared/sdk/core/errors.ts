// One error type that carries a gRPC status code; everything that crosses a server boundary is one.
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

export const invalidArgument = (msg: string) => new StatusError(Code.INVALID_ARGUMENT, msg);
export const notFound = (msg: string) => new StatusError(Code.NOT_FOUND, msg);
export const unavailable = (msg: string) => new StatusError(Code.UNAVAILABLE, msg);
export const internal = (msg: string) => new StatusError(Code.INTERNAL, msg);
export const failedPrecondition = (msg: string) => new StatusError(Code.FAILED_PRECONDITION, msg);

export function isServiceError(err: unknown): err is Error & { code: Code; details: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

export function codeOf(err: unknown): Code {
  return StatusError.from(err).code;
}
