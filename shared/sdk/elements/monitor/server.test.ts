import { Connection, ConnectionEvent, ConnectionEventType as T, MonitorScopeSelector } from '@nsm/api';
import { flushPromises } from '../../core/clock';
import { bg, conn, seg } from '../../testing/elements';
import { MonitorServer } from './server';

const c = (id: string, name = 'hop') => conn({ id, path: { index: 0, pathSegments: [seg(name, id)] } });
const all: MonitorScopeSelector = { pathSegments: [], networkServices: [] };
const byName = (name: string): MonitorScopeSelector => ({ pathSegments: [seg(name, '')], networkServices: [] });
const summary = (evs: ConnectionEvent[]) => evs.map((e) => [e.type, Object.keys(e.connections).sort()]);

function subscribe(m: MonitorServer, selector: MonitorScopeSelector, send?: (ev: ConnectionEvent) => Promise<void>) {
  const events: ConnectionEvent[] = [];
  const { ctx, cancel } = bg().withCancel();
  const done = m.serve(ctx, selector, send ?? (async (ev) => void events.push(ev)));
  return { events, cancel, done };
}

describe('MonitorServer', () => {
  test('every subscriber first gets INITIAL_STATE_TRANSFER, even when empty', async () => {
    const m = new MonitorServer();
    const s = subscribe(m, all);
    await flushPromises();
    expect(summary(s.events)).toEqual([[T.INITIAL_STATE_TRANSFER, []]]);
    s.cancel();
    await s.done;
    expect(m.subscriberCount).toBe(0);
  });

  test('the initial state holds the stored connections that match the selector', async () => {
    const m = new MonitorServer();
    m.publish(T.UPDATE, [c('1', 'a'), c('2', 'b')]);
    m.publish(T.UPDATE, [c('3', 'a')]);
    m.publish(T.DELETE, [c('3', 'a')]);
    const s = subscribe(m, byName('a'));
    await flushPromises();
    expect(summary(s.events)).toEqual([[T.INITIAL_STATE_TRANSFER, ['1']]]);
    s.cancel();
  });

  test('updates and deletes go to matching subscribers only, in order', async () => {
    const m = new MonitorServer();
    const a = subscribe(m, byName('a'));
    const any = subscribe(m, all);
    await flushPromises();
    m.publish(T.UPDATE, [c('1', 'a'), c('2', 'b')]);
    m.publish(T.UPDATE, [c('2', 'b')]);
    m.publish(T.DELETE, [c('1', 'a')]);
    await flushPromises();
    expect(summary(a.events)).toEqual([[T.INITIAL_STATE_TRANSFER, []], [T.UPDATE, ['1']], [T.DELETE, ['1']]]);
    expect(summary(any.events)).toEqual([[T.INITIAL_STATE_TRANSFER, []], [T.UPDATE, ['1', '2']], [T.UPDATE, ['2']], [T.DELETE, ['1']]]);
    expect(m.snapshot().map((x) => x.id)).toEqual(['2']);
    a.cancel();
    any.cancel();
  });

  test('published connections are copies', async () => {
    const m = new MonitorServer();
    const x: Connection = c('1');
    m.publish(T.UPDATE, [x]);
    x.labels.changed = 'yes';
    expect(m.snapshot()[0].labels).toEqual({});
  });

  test('INITIAL_STATE_TRANSFER is never published', async () => {
    const m = new MonitorServer();
    const s = subscribe(m, all);
    m.publish(T.INITIAL_STATE_TRANSFER, [c('1')]);
    await flushPromises();
    expect(m.size).toBe(0);
    expect(s.events).toHaveLength(1);
    s.cancel();
  });

  test('a subscriber whose send fails is dropped', async () => {
    const m = new MonitorServer();
    let n = 0;
    const s = subscribe(m, all, async () => {
      if (++n > 1) throw new Error('stream closed');
    });
    await flushPromises();
    m.publish(T.UPDATE, [c('1')]);
    await s.done;
    expect(m.subscriberCount).toBe(0);
  });
});
