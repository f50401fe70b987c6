// Authorization policies (security.md §4): named predicates over a connection's path and the TLS
// peer, evaluated natively (upstream runs the same rules as Rego). A chain element runs a list of
// them; the list is data, so a deployment adds its own policy by passing a longer list, never by
// editing the chain. A failing policy is PERMISSION_DENIED naming it.
import type { PathSegment } from '@nsm/api';
import { Code, StatusError } from '../core/errors';
import type { TransportPeer } from '../spiffe/peer';
import { parseJwt, ParsedJwt } from '../token/jwt';

export interface PolicyInput {
  /** Server: segments 0..index (the left side); client: the whole returned path. */
  readonly segments: readonly PathSegment[];
  readonly index: number;
  /** The TLS peer (its certificate verifies its tokens); undefined on a plaintext call. */
  readonly peer?: TransportPeer;
  /** Epoch ms. */
  readonly now: number;
  /** segments[i].token decoded (not verified), undefined where it is not a JWT. Computed once. */
  readonly tokens: readonly (ParsedJwt | undefined)[];
}

export interface Policy {
  /** Shown in denials, e.g. "tokens_chained". */
  readonly name: string;
  /** True = allowed. A throw is an evaluation error (INTERNAL). */
  check(input: PolicyInput): boolean;
}

export function policyInput(segments: readonly PathSegment[], index: number, peer: TransportPeer | undefined, now: number): PolicyInput {
  return { segments, index, peer, now, tokens: segments.map((s) => parseJwt(s.token)) };
}

/** Runs every policy in order; the first that fails ends it with PERMISSION_DENIED naming it. */
export function enforce(policies: readonly Policy[], input: PolicyInput): void {
  for (const p of policies) {
    let ok: boolean;
    try {
      ok = p.check(input);
    } catch (err) {
      throw new StatusError(Code.INTERNAL, `policy ${p.name} could not be evaluated: ${(err as Error).message}`);
    }
    if (!ok) throw new StatusError(Code.PERMISSION_DENIED, `no sufficient privileges: policy ${p.name} denied the call`);
  }
}

/** A policy from a name and a predicate: the way users add their own. */
export const policy = (name: string, check: (input: PolicyInput) => boolean): Policy => ({ name, check });
