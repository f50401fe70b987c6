// Helpers for tests: temp socket paths and a started endpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';

export function tempDir(prefix = 'nsm-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A Request as a client's chain sends it: the client's own segment at index 0 (the server authorizes
 * the caller's token there), with the connection id as its id.
 */
export function clientRequest(id: string, partial: Partial<Connection> = {}, prefs: Partial<Mechanism>[] = [], name = 'nsc'): NetworkServiceRequest {
  const r = newRequest({ id, ...partial, path: { index: 0, pathSegments: [{ name, id, token: '', expires: undefined, metrics: {} }] } }, prefs);
  return r;
}

export function newRequest(partial: Partial<Connection> = {}, prefs: Partial<Mechanism>[] = []): NetworkServiceRequest {
  return {
    connection: Connection.fromPartial({ networkService: 'my-service', ...partial }),
    mechanismPreferences: prefs.map((p) => Mechanism.fromPartial(p)),
  };
}
