import { statSync } from 'node:fs';
import { Mechanism, MechanismType } from '@nsm/api';
import { Code, StatusError } from '../../core/errors';
import { chain, handler } from '../../core/networkservice';
import { peerKey } from '../../grpc/keys';
import { unixPeerKey } from '../../grpc/unixpeer';
import { bg, conn, recorder, req } from '../../testing/elements';
import { senderNetns } from './index';

const self = (() => {
  const st = statSync('/proc/self/ns/net');
  return `inode://${st.dev}/${st.ino}`;
})();
const kernel = (inodeURL: string) => Mechanism.fromPartial({ cls: 'LOCAL', type: MechanismType.KERNEL, parameters: { inodeURL, name: 'nsm-1' } });
const overUnix = (netns: string | undefined) => bg().with(peerKey, {}).with(unixPeerKey, { pid: 4242, ...(netns ? { netns } : {}) });

async function outcome(ctx: ReturnType<typeof bg>, prefs: Mechanism[], current?: Mechanism, opts = {}) {
  const rec = recorder();
  const h = handler(chain(senderNetns(opts), rec.el));
  try {
    await h.request(ctx, req(conn({ id: 'c1', ...(current ? { mechanism: current } : {}) }), prefs));
    return { passed: rec.requests.length, code: Code.OK, message: '' };
  } catch (err) {
    const s = StatusError.from(err);
    return { passed: rec.requests.length, code: s.code, message: s.message };
  }
}

describe('senderNetns: a Request may only name its sender\'s own namespace', () => {
  it('passes the sender\'s own namespace in the inode form', async () => {
    expect(await outcome(overUnix('inode://4/4026532000'), [kernel('inode://4/4026532000')])).toMatchObject({ passed: 1, code: Code.OK });
  });

  it('refuses another namespace, in preferences and in the connection\'s current mechanism (a refresh), with nothing passed on', async () => {
    for (const [prefs, current] of [[[kernel('inode://4/4026532999')], undefined], [[], kernel('inode://4/4026532999')]] as const) {
      const r = await outcome(overUnix('inode://4/4026532000'), [...prefs], current);
      expect(r).toMatchObject({ passed: 0, code: Code.PERMISSION_DENIED });
      expect(r.message).toMatch(/mechanism KERNEL parameter inodeURL "inode:\/\/4\/4026532999" is not the sender's own network namespace \(inode:\/\/4\/4026532000\)/);
    }
  });

  it('refuses /proc paths (use inode://) and any name when the sender\'s namespace is unknown', async () => {
    const r = await outcome(overUnix('inode://4/4026532000'), [kernel('file:///proc/1/ns/net')]);
    expect(r).toMatchObject({ passed: 0, code: Code.INVALID_ARGUMENT });
    expect(r.message).toMatch(/send the namespace as inode:\/\/<dev>\/<ino>/);
    expect(await outcome(overUnix(undefined), [kernel('inode://4/4026532000')])).toMatchObject({ passed: 0, code: Code.PERMISSION_DENIED });
  });

  it('refuses a local namespace in a Request from another node (TCP: no unix peer)', async () => {
    const r = await outcome(bg().with(peerKey, {}), [kernel(self)]);
    expect(r).toMatchObject({ passed: 0, code: Code.PERMISSION_DENIED });
    expect(r.message).toMatch(/a Request from another node may not name a local namespace/);
    // Remote mechanisms carry no namespace: passed on.
    expect(await outcome(bg().with(peerKey, {}), [Mechanism.fromPartial({ cls: 'REMOTE', type: MechanismType.VXLAN, parameters: {} })])).toMatchObject({ passed: 1 });
  });

  it('lets only the trusted namespace name a named namespace that is not its own, and never this node\'s', async () => {
    // No named namespace is needed for the refusals: one that does not exist is refused the same way.
    expect(await outcome(overUnix('inode://4/4026532000'), [kernel('file:///var/run/netns/nsm-no-such-ns')], undefined, { namedFrom: 'inode://4/4026532000' })).toMatchObject({ passed: 0, code: Code.PERMISSION_DENIED });
    expect(await outcome(overUnix('inode://4/4026532001'), [kernel('file:///var/run/netns/x')], undefined, { namedFrom: 'inode://4/4026532000' })).toMatchObject({ passed: 0, code: Code.PERMISSION_DENIED });
  });

  it('does not check in-process calls (no gRPC peer)', async () => {
    expect(await outcome(bg(), [kernel('inode://4/1')])).toMatchObject({ passed: 1 });
  });
});
