// What a Kubernetes API server answers besides objects: metav1.Status bodies for failures, the
// timestamp and name-suffix formats of metadata. Shared by the fake API server of the tests and the
// local runtime's pod API, which must both answer as the real server does.
import type { ServerResponse } from 'node:http';

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

/** A failure that a server answers with its Status. */
export class KubeError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

/** The watch ERROR event for a version older than the retained history. */
export const expired = (requested: number, oldest: number): Status => status(410, 'Expired', `too old resource version: ${requested} (${oldest})`);

// The alphabet the real server draws generateName suffixes (five characters) from.
export const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const generatedSuffix = () => Array.from({ length: 5 }, () => NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)]).join('');

export const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function reply(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
