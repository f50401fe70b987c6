import { Mechanism } from '@nsm/api';
import { metadata } from '../../core/metadata';
import { chain, handler, NetworkServiceElement } from '../../core/networkservice';
import { bg, conn, recorder, req } from '../../testing/elements';
import { mechanismTranslation } from './index';

const m = (type: string, cls = 'LOCAL') => Mechanism.fromPartial({ cls, type, parameters: {} });

describe('mechanismtranslation', () => {
  test('downstream gets a fresh preference list and last time\'s downstream mechanism; the caller gets its own back', async () => {
    const rec = recorder();
    const next: NetworkServiceElement = { async request(_ctx, r) { return { ...r.connection!, mechanism: r.connection!.mechanism ?? m('VXLAN', 'REMOTE') }; } };
    const h = handler(chain(metadata(), mechanismTranslation(), rec.el, next));
    const first = await h.request(bg(), req(conn({ id: 'x', mechanism: m('KERNEL') }), [m('KERNEL'), m('MEMIF')]));
    expect(rec.requests[0].mechanismPreferences).toEqual([]);
    expect(rec.requests[0].connection!.mechanism).toBeUndefined();
    expect(first.mechanism).toEqual(m('KERNEL'));

    await h.request(bg(), req(first, [m('KERNEL')]));
    expect(rec.requests[1].connection!.mechanism).toEqual(m('VXLAN', 'REMOTE'));

    await h.close(bg(), first);
    expect(rec.closes[0].mechanism).toEqual(m('VXLAN', 'REMOTE'));
  });

  test('the caller\'s request object is not changed', async () => {
    const r = req(conn({ id: 'x', mechanism: m('KERNEL') }), [m('KERNEL')]);
    await handler(chain(metadata(), mechanismTranslation())).request(bg(), r);
    expect(r.mechanismPreferences).toHaveLength(1);
    expect(r.connection!.mechanism).toEqual(m('KERNEL'));
  });
});
