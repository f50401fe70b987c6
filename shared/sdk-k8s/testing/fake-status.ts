// Status objects shaped as the Kubernetes API server returns them with a failure (metav1.Status).
import { KubeError, status } from '../api-status';
import { GROUP } from '../codec';

export { KubeError, status, expired } from '../api-status';
export type { Status } from '../api-status';

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

/** What a DELETE answers when the object is gone. */
export const success = (details: Record<string, unknown>) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
