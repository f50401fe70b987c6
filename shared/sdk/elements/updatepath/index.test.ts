import { Connection } from '@nsm/api';
import { Code } from '../../core/errors';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, recorder, req, seg } from '../../testing/elements';
import { advancePath, updatePath } from './index';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const names = (c: Connection) => c.path!.pathSegments.map((s) => s.name);
const ids = (c: Connection) => c.path!.pathSegments.map((s) => s.id);

describe('advancePath (sdk.md §2.8)', () => {
  let n = 0;
  const newId = () => `new-${++n}`;
  beforeEach(() => (n = 0));

  // [case, connection in, caller index returned, names after, ids after, index after, id after]
  const cases: [string, Partial<Connection>, number, string[], string[], number, string][] = [
    ['1: empty path, caller id kept', { id: 'A' }, 0, ['me'], ['A'], 0, 'A'],
    ['1: empty path, no id', {}, 0, ['me'], ['new-1'], 0, 'new-1'],
    ['2: own segment', { id: 'whatever', path: { index: 1, pathSegments: [seg('nsc', 'A'), seg('me', 'B')] } }, 1, ['nsc', 'me'], ['A', 'B'], 1, 'B'],
    ['3: next hop, appended', { id: 'A', path: { index: 0, pathSegments: [seg('nsc', 'A')] } }, 0, ['nsc', 'me'], ['A', 'new-1'], 1, 'new-1'],
    ['3.4: next hop, own segment reused', { id: 'A', path: { index: 0, pathSegments: [seg('nsc', 'A'), seg('me', 'B'), seg('nse', 'C')] } }, 0, ['nsc', 'me', 'nse'], ['A', 'B', 'C'], 1, 'B'],
    ['3.3: next hop, other name overwritten with a new id', { id: 'A', path: { index: 0, pathSegments: [seg('nsc', 'A'), seg('fwd-old', 'B'), seg('nse', 'C')] } }, 0, ['nsc', 'me', 'nse'], ['A', 'new-1', 'C'], 1, 'new-1'],
  ];
  test.each(cases)('%s', (_name, partial, callerIndex, wantNames, wantIds, index, id) => {
    const c = conn(partial);
    expect(advancePath(c, 'me', newId)).toBe(callerIndex);
    expect(names(c)).toEqual(wantNames);
    expect(ids(c)).toEqual(wantIds);
    expect(c.path!.index).toBe(index);
    expect(c.id).toBe(id);
  });

  test.each([
    ['index out of range', { id: 'A', path: { index: 3, pathSegments: [seg('nsc', 'A')] } }, /path\.index 3 is out of range/],
    ['id does not match the current segment', { id: 'X', path: { index: 0, pathSegments: [seg('nsc', 'A')] } }, /connection\.id "X" must equal .*\[0\]\.id "A"/],
  ] as [string, Partial<Connection>, RegExp][])('error: %s', (_n, partial, msg) => {
    expect(() => advancePath(conn(partial), 'me')).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(msg) }));
  });

  test('generated ids are UUIDv4', () => {
    const c = conn();
    advancePath(c, 'me');
    expect(c.id).toMatch(uuid);
  });
});

describe('updatePath element', () => {
  test('downstream sees this hop; the reply is restored to the caller\'s coordinates', async () => {
    const rec = recorder();
    const h = handler(chain(updatePath('nsmgr'), rec.el, { request: async (_c, r) => ({ ...r.connection!, path: { ...r.connection!.path!, pathSegments: [...r.connection!.path!.pathSegments, seg('nse', 'D')] } }) }));
    const out = await h.request(bg(), req(conn({ id: 'A', path: { index: 0, pathSegments: [seg('nsc', 'A')] } })));
    const down = rec.requests[0].connection!;
    expect(down.path!.index).toBe(1);
    expect(down.id).toBe(down.path!.pathSegments[1].id);
    expect(down.id).toMatch(uuid);
    expect(out.path!.index).toBe(0);
    expect(out.id).toBe('A');
    expect(names(out)).toEqual(['nsc', 'nsmgr', 'nse']);

    // A refresh with the returned connection reuses this hop's segment id.
    await h.request(bg(), req(out));
    expect(rec.requests[1].connection!.id).toBe(down.id);
  });

  test('a request without a connection gets one with a fresh path', async () => {
    const out = await handler(updatePath('nsc')).request(bg(), { connection: undefined, mechanismPreferences: [] });
    expect(out.id).toMatch(uuid);
    expect(names(out)).toEqual(['nsc']);
  });

  test('Close advances the path (no restore needed) and errors like Request', async () => {
    const rec = recorder();
    const h = handler(chain(updatePath('nsmgr'), rec.el));
    await h.close(bg(), conn({ id: 'A', path: { index: 0, pathSegments: [seg('nsc', 'A'), seg('nsmgr', 'B')] } }));
    expect(rec.closes[0]).toMatchObject({ id: 'B', path: { index: 1 } });
    await expect(h.close(bg(), conn({ id: 'Z', path: { index: 0, pathSegments: [seg('nsc', 'A')] } }))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  test('client and server of the same hop share one segment', async () => {
    const rec = recorder();
    const h = handler(chain(updatePath('fwd'), updatePath('fwd'), rec.el));
    const out = await h.request(bg(), req(conn({ id: 'B', path: { index: 1, pathSegments: [seg('nsc', 'A'), seg('nsmgr', 'B')] } })));
    expect(names(rec.requests[0].connection!)).toEqual(['nsc', 'nsmgr', 'fwd']);
    expect(out).toMatchObject({ id: 'B', path: { index: 1 } });
  });
});
