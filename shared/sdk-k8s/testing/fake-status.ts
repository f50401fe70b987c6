// Status objects shaped as the Kubernetes API server returns them with a failure (metav1.Status).
import { GROUP } from '../codec';

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: Record<string, unknown>;
  code: number;
}

export function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** A failure that the fake server answers with its Status. */
export class KubeError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

export const badRequest = (message: string) => new KubeError(status(400, 'BadRequest', message));

export const notFound = (plural: string, name: string) =>
  new KubeError(status(404, 'NotFound', `${plural}.${GROUP} "${name}" not found`, { name, group: GROUP, kind: plural }));

export const conflict = (plural: string, name: string) =>
  new KubeError(
    status(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${plural}.${GROUP} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: GROUP, kind: plural },
    ),
  );

export const invalid = (res: { kind: string }, name: string, cause: string) =>
  new KubeError(status(422, 'Invalid', `${res.kind}.${GROUP} "${name}" is invalid: ${cause}`, { name, group: GROUP, kind: res.kind }));

/** The watch ERROR event for a version older than the retained history. */
export const expired = (requested: number, oldest: number): Status =>
  status(410, 'Expired', `too old resource version: ${requested} (${oldest})`);

/** What a DELETE answers when the object is gone. */
export const success = (details: Record<string, unknown>) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
