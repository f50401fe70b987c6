// Every NSM command's identity: the X.509-SVID that the Workload API at SPIFFE_ENDPOINT_SOCKET (a
// SPIRE agent, or the local runtime's embedded provider) hands out and rotates, and the token
// generator that signs path tokens with it. Start-up waits for the first SVID and fails with a
// message that says where it looked and what went wrong; the source closes on shutdown.
import { SPIFFE_ENDPOINT_SOCKET, WorkloadApiClient } from '../spiffe/client';
import type { X509Source } from '../spiffe/source';
import type { TokenGenerator } from '../token';
import { spiffeTokenGenerator } from '../token/spiffe';

export interface Identity {
  source: X509Source;
  /** The SPIFFE ID of the first SVID (rotations keep the ID). */
  readonly id: string;
  /** Path tokens: ES256, sub = own ID, aud = the peer, exp capped by NSM_MAX_TOKEN_LIFETIME and both certificates. */
  tokens: TokenGenerator;
  close(): void;
}

export interface IdentityOptions {
  /** SPIFFE_ENDPOINT_SOCKET. */
  address: string;
  timeoutMs: number;
  /** NSM_MAX_TOKEN_LIFETIME. */
  maxTokenLifetimeMs: number;
}

/** Connects to the Workload API and waits for the first SVID. */
export async function obtainIdentity(opts: IdentityOptions): Promise<Identity> {
  if (!opts.address) {
    throw new Error(`${SPIFFE_ENDPOINT_SOCKET} is not set: every NSM component needs an X.509-SVID from a SPIFFE Workload API (a SPIRE agent socket, e.g. unix:///run/spire/sockets/agent.sock, or the socket nsm-local gives each pod)`);
  }
  let source: WorkloadApiClient;
  try {
    source = new WorkloadApiClient({ address: opts.address });
  } catch (err) {
    throw new Error(`${SPIFFE_ENDPOINT_SOCKET}: ${(err as Error).message}`);
  }
  // The client's timers do not keep a process alive; a command that is only waiting must not exit.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    const ctx = await source.ready(opts.timeoutMs);
    return {
      source,
      id: ctx.svid.id,
      tokens: spiffeTokenGenerator({ source, maxLifetimeMs: opts.maxTokenLifetimeMs }),
      close: () => source.close(),
    };
  } catch (err) {
    source.close();
    throw new Error(`no identity: ${(err as Error).message} (is a SPIRE agent or nsm-local serving ${SPIFFE_ENDPOINT_SOCKET}=${opts.address}, and does it have an entry for this workload?)`);
  } finally {
    clearInterval(keepAlive);
  }
}
