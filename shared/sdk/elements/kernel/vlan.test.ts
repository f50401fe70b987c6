import { Connection, Mechanism, MechanismType, Param } from '@nsm/api';
import { Code, StatusError } from '../../core/errors';
import { metadata } from '../../core/metadata';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, failer, req } from '../../testing/elements';
import { vlanAllocatorServer } from './vlan';

const kernel = (params: Record<string, string>) => Mechanism.fromPartial({ cls: 'LOCAL', type: MechanismType.KERNEL, parameters: params });
const trunkable = (id: string, extra: Record<string, string> = {}) => conn({ id, mechanism: kernel({ [Param.supportsVlan]: 'true', ...extra }) });
const vlanOf = (c: Connection) => c.mechanism?.parameters[Param.vlan];

function setup() {
  const alloc = vlanAllocatorServer();
  const f = failer();
  return { alloc, f, h: handler(chain(metadata(), alloc, f.el)) };
}

describe('kernel vlan allocator', () => {
  test('gives each trunk-capable connection the lowest free id and keeps it across refresh', async () => {
    const s = setup();
    const a = await s.h.request(bg(), req(trunkable('a')));
    const b = await s.h.request(bg(), req(trunkable('b')));
    expect([vlanOf(a), vlanOf(b)]).toEqual(['1', '2']);
    // A refresh carries the selected mechanism back; the id must not change or leak.
    const again = await s.h.request(bg(), req(a));
    expect(vlanOf(again)).toBe('1');
    expect(s.alloc.inUse()).toEqual([1, 2]);
  });

  test('Close frees the id for the next connection', async () => {
    const s = setup();
    const a = await s.h.request(bg(), req(trunkable('a')));
    await s.h.request(bg(), req(trunkable('b')));
    await s.h.close(bg(), a);
    expect(s.alloc.inUse()).toEqual([2]);
    const c = await s.h.request(bg(), req(trunkable('c')));
    expect(vlanOf(c)).toBe('1');
  });

  test('leaves connections without supportsVlan (or not KERNEL) alone', async () => {
    const s = setup();
    const plain = await s.h.request(bg(), req(conn({ id: 'p', mechanism: kernel({}) })));
    const memif = await s.h.request(bg(), req(conn({ id: 'm', mechanism: Mechanism.fromPartial({ cls: 'LOCAL', type: 'MEMIF', parameters: { [Param.supportsVlan]: 'true' } }) })));
    expect(vlanOf(plain)).toBeUndefined();
    expect(vlanOf(memif)).toBeUndefined();
    expect(s.alloc.inUse()).toEqual([]);
  });

  test('a failed first request returns its id; a failed refresh keeps it', async () => {
    const s = setup();
    s.f.requestFailures = 1;
    await expect(s.h.request(bg(), req(trunkable('a')))).rejects.toThrow('injected failure');
    expect(s.alloc.inUse()).toEqual([]);
    const a = await s.h.request(bg(), req(trunkable('a')));
    s.f.requestFailures = 1;
    await expect(s.h.request(bg(), req(a))).rejects.toThrow('injected failure');
    expect(s.alloc.inUse()).toEqual([1]);
  });

  test('a request naming a free id (healing after an endpoint restart) gets it; a taken one gets the lowest free', async () => {
    const s = setup();
    const healed = await s.h.request(bg(), req(trunkable('old', { [Param.vlan]: '7' })));
    expect(vlanOf(healed)).toBe('7');
    const clash = await s.h.request(bg(), req(trunkable('other', { [Param.vlan]: '7' })));
    expect(vlanOf(clash)).toBe('1');
    const junk = await s.h.request(bg(), req(trunkable('junk', { [Param.vlan]: '5000' })));
    expect(vlanOf(junk)).toBe('2');
  });

  test('all 4094 ids in use: RESOURCE_EXHAUSTED with a message, and existing connections keep theirs', async () => {
    const s = setup();
    for (let i = 1; i <= 4094; i++) await s.h.request(bg(), req(trunkable(`c${i}`)));
    const err = await s.h.request(bg(), req(trunkable('one-too-many'))).catch((e) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect((err as Error).message).toMatch(/vlan id not available for allocation/);
    expect(s.alloc.inUse()).toHaveLength(4094);
  });
});
