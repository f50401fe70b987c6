import { PodStore, WatchEvent } from './store';
import { podFromSpec } from './podspec';

const pod = (name: string, node = 'node1', labels: Record<string, string> = {}) => podFromSpec({ name, node, command: 'nsc', env: {}, labels });
const types = (evs: WatchEvent[]) => evs.map((e) => `${e.type} ${(e.object as { metadata: { name?: string } }).metadata.name ?? ''}`);

describe('PodStore', () => {
  test('versions grow with every change; a change that changes nothing is no new version', () => {
    const s = new PodStore();
    const a = s.add(pod('a'));
    expect(a.metadata.uid).toBeDefined();
    const rv = Number(a.metadata.resourceVersion);
    expect(Number(s.update('a', (p) => (p.status.phase = 'Running'))!.metadata.resourceVersion)).toBe(rv + 1);
    expect(Number(s.update('a', (p) => (p.status.phase = 'Running'))!.metadata.resourceVersion)).toBe(rv + 1);
    expect(() => s.add(pod('a'))).toThrow('pods "a" already exists');
    expect(() => s.get('other', 'a')).toThrow('pods "a" not found');
  });

  test('a watch without version starts with the current pods; with one, replays what came after it', () => {
    const s = new PodStore();
    s.add(pod('a'));
    const after = s.resourceVersion;
    s.add(pod('b', 'node2'));
    s.update('a', (p) => (p.status.phase = 'Succeeded'));
    s.remove('b');
    const all: WatchEvent[] = [];
    s.watch({}, '', (e) => all.push(e))();
    expect(types(all)).toEqual(['ADDED a']);
    const replay: WatchEvent[] = [];
    const stop = s.watch({}, after, (e) => replay.push(e));
    expect(types(replay)).toEqual(['ADDED b', 'MODIFIED a', 'DELETED b']);
    s.add(pod('c'));
    stop();
    s.add(pod('d'));
    expect(types(replay)).toEqual(['ADDED b', 'MODIFIED a', 'DELETED b', 'ADDED c']);
  });

  test('filters: namespace, labels and fields apply to lists and watches', () => {
    const s = new PodStore();
    s.add(pod('a', 'node1', { app: 'x' }));
    s.add(pod('b', 'node2', { app: 'y' }));
    expect(s.list({ labels: [{ key: 'app', op: '=', values: ['y'] }] }).items.map((p) => p.metadata.name)).toEqual(['b']);
    expect(s.list({ fields: [{ key: 'spec.nodeName', op: '=', values: ['node1'] }] }).items.map((p) => p.metadata.name)).toEqual(['a']);
    expect(s.list({ namespace: 'other' }).items).toEqual([]);
    const seen: WatchEvent[] = [];
    s.watch({ labels: [{ key: 'app', op: '=', values: ['x'] }] }, s.resourceVersion, (e) => seen.push(e));
    s.update('b', (p) => (p.status.phase = 'Running'));
    s.update('a', (p) => (p.status.phase = 'Running'));
    expect(types(seen)).toEqual(['MODIFIED a']);
  });

  test('a version older than the kept history gets 410 Expired, as after compaction', () => {
    const s = new PodStore(2);
    const first = s.resourceVersion;
    for (const n of ['a', 'b', 'c']) s.add(pod(n));
    const evs: WatchEvent[] = [];
    s.watch({}, first, (e) => evs.push(e));
    expect(evs).toEqual([{ type: 'ERROR', object: expect.objectContaining({ code: 410, reason: 'Expired' }) }]);
    expect(() => s.watch({}, 'abc', () => undefined)).toThrow('invalid resource version: abc');
  });
});
