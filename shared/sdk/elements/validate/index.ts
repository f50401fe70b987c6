// validate: rejects malformed calls at the door with INVALID_ARGUMENT naming the field, so that no
// element further down has to guess what a missing connection or service means.
import { invalidArgument } from '../../core/errors';
import type { NetworkServiceElement } from '../../core/networkservice';

export function validate(): NetworkServiceElement {
  return {
    async request(ctx, req, next) {
      if (!req.connection) throw invalidArgument('request.connection is required');
      if (!req.connection.networkService) throw invalidArgument('request.connection.network_service must not be empty');
      checkPath(req.connection.path);
      for (const [i, m] of req.mechanismPreferences.entries()) {
        if (!m.type) throw invalidArgument(`request.mechanism_preferences[${i}].type must not be empty`);
      }
      return next.request(ctx, req);
    },
    async close(ctx, conn, next) {
      if (!conn) throw invalidArgument('connection is required');
      checkPath(conn.path);
      return next.close(ctx, conn);
    },
  };
}

function checkPath(path: { index: number; pathSegments: unknown[] } | undefined) {
  if (path && path.pathSegments.length > 0 && path.index >= path.pathSegments.length) {
    throw invalidArgument(
      `connection.path.index ${path.index} is out of range: the path has ${path.pathSegments.length} segment(s)`,
    );
  }
}
