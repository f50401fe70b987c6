// Table tests of the default policies against really signed paths.
import { Code } from '../core/errors';
import { jwtTokenGenerator } from '../token';
import { clientPolicies, serverPolicies } from './builtin';
import { enforce, policy, policyInput } from './index';
import { pathFixture, PathFixture } from './testing';

let f: PathFixture;
const now = Date.now();
beforeAll(async () => {
  f = await pathFixture(() => now);
});

type Case = [string, (f: PathFixture) => ReturnType<typeof policyInput>, string | undefined];

// The forwarder (index 2) receives a Request from the nsmgr: left side = nsc, nsmgr, forwarder.
const atForwarder = (spoil: (s: ReturnType<PathFixture['segments']>) => void = () => undefined, peer: 'nsmgr' | 'mallory' | null = 'nsmgr', t = now) => {
  const segs = f.segments(3, now);
  spoil(segs);
  return policyInput(segs, 2, peer ? f.peer(peer) : undefined, t);
};

const trusting = (trustDomains: string[]) => {
  const segs = f.segments(3, now);
  return policyInput(segs, 2, { ...f.peer('nsmgr'), trustDomains }, now);
};

test('tokens_trust_domains names the token and the untrusted trust domain', () => {
  expect(() => enforce(serverPolicies, trusting(['example.org']))).toThrow(
    'no sufficient privileges: policy tokens_trust_domains denied the call (the token of segment 0 (nsc) is from spiffe://nsm.local/nsc, whose trust domain nsm.local is not trusted here (trusted: example.org))',
  );
});

describe('server default set', () => {
  test.each<Case>([
    ['a good path', () => atForwarder(), undefined],
    ['a good first hop (nsmgr, index 1, called by the nsc)', (f) => policyInput(f.segments(2, now), 1, f.peer('nsc'), now), undefined],
    ['the previous token forged with another key', () => atForwarder((s) => (s[1].token = f.token('nsmgr', 'forwarder', {}, 'mallory'))), 'prev_token_signed'],
    ['the previous token signed by someone else than the TLS peer', () => atForwarder(undefined, 'mallory'), 'prev_token_signed'],
    ['no TLS peer (plaintext)', () => atForwarder(undefined, null), 'prev_token_signed'],
    ['index 0: nobody before us signed anything', (f) => policyInput(f.segments(1, now), 0, f.peer('nsc'), now), 'prev_token_signed'],
    ['an expired token anywhere on the left', () => atForwarder((s) => (s[0].token = f.token('nsc', 'nsmgr', { exp: Math.floor(now / 1000) - 1 }))), 'tokens_expired'],
    ['the caller token expired', () => atForwarder(undefined, 'nsmgr', now + 601_000), 'tokens_expired'],
    ['unchained: the nsc token is for someone else', () => atForwarder((s) => (s[0].token = f.token('nsc', 'forwarder'))), 'tokens_chained'],
    ['unchained: no aud', () => atForwarder((s) => (s[0].token = f.token('nsc', undefined))), 'tokens_chained'],
    ['an unsigned alg-none token', () => atForwarder((s) => (s[1].token = jwtTokenGenerator({ subject: f.svids.nsmgr.id, lifetimeMs: 60_000 })({ id: f.svids.forwarder.id }).token)), 'prev_token_signed'],
    ['an empty token', () => atForwarder((s) => (s[0].token = '')), 'tokens_valid'],
    ['garbage token', () => atForwarder((s) => (s[0].token = 'not.a.jwt')), 'tokens_valid'],
    // Interdomain: the server says which trust domains it trusts (own and federated).
    ['every token from a trusted trust domain', () => trusting(['example.org', 'nsm.local']), undefined],
    ['a path that began in a trust domain this hop does not federate with', () => trusting(['example.org']), 'tokens_trust_domains'],
  ])('%s', (_n, make, denied) => {
    const run = () => enforce(serverPolicies, make(f));
    if (denied === undefined) expect(run).not.toThrow();
    else expect(run).toThrow(expect.objectContaining({ code: Code.PERMISSION_DENIED, message: expect.stringContaining(`policy ${denied} `) }));
  });
});

describe('client default set', () => {
  // The nsc (index 0) checks the full reply; its TLS peer is the nsmgr.
  const reply = (spoil: (s: ReturnType<PathFixture['segments']>) => void = () => undefined, peer: 'nsmgr' | 'mallory' = 'nsmgr') => {
    const segs = f.segments(4, now);
    spoil(segs);
    return policyInput(segs, 0, f.peer(peer), now);
  };
  test.each<Case>([
    ['a good reply', () => reply(), undefined],
    ['the nsmgr token forged', () => reply((s) => (s[1].token = f.token('nsmgr', 'forwarder', {}, 'mallory'))), 'next_token_signed'],
    ['an impostor nsmgr', () => reply(undefined, 'mallory'), 'next_token_signed'],
    ['no next segment', (f) => policyInput(f.segments(1, now), 0, f.peer('nsmgr'), now), 'next_token_signed'],
    ['the endpoint token expired', () => reply((s) => (s[3].token = f.token('nse', 'forwarder', { exp: Math.floor(now / 1000) - 5 }))), 'tokens_expired'],
    ['the endpoint token is not chained', () => reply((s) => (s[3].token = f.token('mallory', 'forwarder'))), 'tokens_chained'],
  ])('%s', (_n, make, denied) => {
    const run = () => enforce(clientPolicies, make(f));
    if (denied === undefined) expect(run).not.toThrow();
    else expect(run).toThrow(expect.objectContaining({ code: Code.PERMISSION_DENIED, message: expect.stringContaining(`policy ${denied} `) }));
  });
});

test('a user policy is added by list, and a failing evaluation is INTERNAL', () => {
  const onlyNsc = policy('only_nsc_clients', (i) => i.segments[0]?.name === 'nsc');
  expect(() => enforce([...serverPolicies, onlyNsc], atForwarder())).not.toThrow();
  expect(() => enforce([...serverPolicies, onlyNsc], atForwarder((s) => (s[0].name = 'other')))).toThrow(/policy only_nsc_clients denied/);
  const broken = policy('broken', () => {
    throw new Error('boom');
  });
  expect(() => enforce([broken], atForwarder())).toThrow(expect.objectContaining({ code: Code.INTERNAL, message: expect.stringMatching(/broken.*boom/) }));
});

test('vacuous truths: empty path passes tokens_valid, tokens_expired and tokens_chained', () => {
  const empty = policyInput([], 0, undefined, now);
  expect(() => enforce(serverPolicies.filter((p) => p.name !== 'prev_token_signed'), empty)).not.toThrow();
});
