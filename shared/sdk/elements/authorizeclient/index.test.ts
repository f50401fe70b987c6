// The client element checks the reply of the next hop, with the server identity the gRPC edge
// reports through the call peer slot (emulated here by the last element).
import type { Connection } from '@nsm/api';
import { Code } from '../../core/errors';
import { metadata } from '../../core/metadata';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { pathFixture, PathFixture } from '../../policy/testing';
import { callPeerSlotKey } from '../../spiffe/peer';
import { bg, conn, req } from '../../testing/elements';
import { authorizeClient } from './index';

let f: PathFixture;
const now = Date.now();
beforeAll(async () => {
  f = await pathFixture(() => now);
});

/** The next hop as the gRPC edge presents it: a reply and who answered (undefined = in-process). */
function nextHop(opts: { server?: 'nsmgr' | 'mallory' | 'plaintext'; spoil?: (c: Connection) => void } = {}) {
  const calls = { requests: 0, closes: 0 };
  const el: NetworkServiceElement = {
    async request(ctx, r) {
      calls.requests++;
      const slot = ctx.get(callPeerSlotKey);
      if (slot && opts.server) {
        slot.called = true;
        if (opts.server !== 'plaintext') slot.peer = f.peer(opts.server);
      }
      const out = conn({ id: r.connection!.id, path: { index: 0, pathSegments: f.segments(4, now) } });
      opts.spoil?.(out);
      return out;
    },
    async close() {
      calls.closes++;
    },
  };
  return { el, calls };
}

const nscConn = () => conn({ id: 'nsc-id', path: { index: 0, pathSegments: f.segments(1, now) } });

test('a good reply passes; Close is checked with the remembered server identity and sent', async () => {
  const hop = nextHop({ server: 'nsmgr' });
  const h = handler(chain(metadata(), authorizeClient(), hop.el));
  const out = await h.request(bg(), req(nscConn()));
  await h.close(bg(), out);
  expect(hop.calls).toEqual({ requests: 1, closes: 1 });
});

test.each([
  ['a reply whose next token is forged', { server: 'nsmgr', spoil: (c: Connection) => (c.path!.pathSegments[1].token = f.token('nsmgr', 'forwarder', {}, 'mallory')) }, 'next_token_signed'],
  ['an impostor server', { server: 'mallory' }, 'next_token_signed'],
  ['a plaintext server', { server: 'plaintext' }, 'next_token_signed'],
  ['an expired endpoint token', { server: 'nsmgr', spoil: (c: Connection) => (c.path!.pathSegments[3].token = f.token('nse', 'forwarder', { exp: 1 })) }, 'tokens_expired'],
  ['an unchained reply', { server: 'nsmgr', spoil: (c: Connection) => (c.path!.pathSegments[2].token = f.token('forwarder', 'nsmgr')) }, 'tokens_chained'],
] as const)('%s is refused and closed downstream again', async (_n, opts, policyName) => {
  const hop = nextHop(opts as Parameters<typeof nextHop>[0]);
  const h = handler(chain(metadata(), authorizeClient(), hop.el));
  await expect(h.request(bg(), req(nscConn()))).rejects.toMatchObject({ code: Code.PERMISSION_DENIED, message: expect.stringContaining(policyName) });
  expect(hop.calls).toEqual({ requests: 1, closes: 1 });
});

test('a Close whose path no longer passes is refused and not sent', async () => {
  const hop = nextHop({ server: 'nsmgr' });
  const h = handler(chain(metadata(), authorizeClient(), hop.el));
  const out = await h.request(bg(), req(nscConn()));
  out.path!.pathSegments[1].token = f.token('nsmgr', 'forwarder', {}, 'mallory');
  await expect(h.close(bg(), out)).rejects.toMatchObject({ code: Code.PERMISSION_DENIED });
  expect(hop.calls.closes).toBe(0);
});

test('a reply that did not come over gRPC is not checked', async () => {
  const hop = nextHop({ spoil: (c) => (c.path!.pathSegments[1].token = 'garbage') });
  const out = await handler(chain(metadata(), authorizeClient(), hop.el)).request(bg(), req(nscConn()));
  expect(out.path!.pathSegments[1].token).toBe('garbage');
});
