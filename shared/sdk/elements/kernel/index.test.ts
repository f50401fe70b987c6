import { statSync } from 'node:fs';
import { Mechanism, MechanismType, Param } from '@nsm/api';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, recorder, req } from '../../testing/elements';
import { derivedInterfaceName, kernelMechanismClient, kernelMechanismServer, ownNetnsUrl } from './index';

test.each([
  ['svc', 'abc', 'svc-abc'],
  ['my-networkservice', '12345678', 'my-network-1234'],
  ['a-very-long-service-name', 'nsc-1', 'a-very-lon-nsc-'],
  ['', 'id', '-id'],
])('derivedInterfaceName(%s, %s) = %s', (ns, id, want) => {
  expect(derivedInterfaceName(ns, id)).toBe(want);
  expect(derivedInterfaceName(ns, id).length).toBeLessThanOrEqual(15);
});

const kernel = (params: Record<string, string> = {}) => Mechanism.fromPartial({ cls: 'LOCAL', type: MechanismType.KERNEL, parameters: params });

describe('kernel mechanism client', () => {
  test('appends a KERNEL preference with the netns and a derived name when none is offered', async () => {
    const rec = recorder();
    await handler(chain(kernelMechanismClient({ netnsUrl: 'file:///ns' }), rec.el)).request(bg(), req(conn({ id: 'conn1', networkService: 'svc' })));
    expect(rec.requests[0].mechanismPreferences).toEqual([kernel({ [Param.inodeURL]: 'file:///ns', [Param.name]: 'svc-conn1' })]);
  });

  test('fills existing KERNEL preferences, keeping a given interface name', async () => {
    const rec = recorder();
    const prefs = [kernel({ name: 'given' }), Mechanism.fromPartial({ cls: 'LOCAL', type: 'MEMIF', parameters: {} }), kernel()];
    await handler(chain(kernelMechanismClient({ interfaceName: 'nsm-1' }), rec.el)).request(bg(), req(conn({ id: 'c' }), prefs));
    const got = rec.requests[0].mechanismPreferences;
    expect(got.map((m) => m.parameters.name)).toEqual(['given', undefined, 'nsm-1']);
    expect(got[0].parameters[Param.inodeURL]).toBe(ownNetnsUrl());
    const st = statSync('/proc/self/ns/net');
    expect(ownNetnsUrl()).toBe(`inode://${st.dev}/${st.ino}`);
  });
});

describe('kernel mechanism server', () => {
  test('on a selected KERNEL mechanism always sets its own netns and name', async () => {
    const rec = recorder();
    const h = handler(chain(kernelMechanismServer({ netnsUrl: 'file:///nse-ns' }), rec.el));
    await h.request(bg(), req(conn({ id: 'c1', networkService: 'svc', mechanism: kernel({ name: 'client-side', inodeURL: 'x' }) })));
    expect(rec.requests[0].connection!.mechanism!.parameters).toEqual({ name: 'svc-c1', inodeURL: 'file:///nse-ns' });
  });

  test('leaves other mechanisms alone', async () => {
    const rec = recorder();
    const memif = Mechanism.fromPartial({ cls: 'LOCAL', type: 'MEMIF', parameters: { a: '1' } });
    await handler(chain(kernelMechanismServer({ interfaceName: 'x' }), rec.el)).request(bg(), req(conn({ id: 'c', mechanism: memif })));
    expect(rec.requests[0].connection!.mechanism).toEqual(memif);
  });
});
