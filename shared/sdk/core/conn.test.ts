import { clone, currentSegment, emptyConnection, fromTimestamp, nextSegment, prevSegment, requestOf, segments, toTimestamp } from './conn';
import { conn, seg } from '../testing/elements';

describe('conn helpers', () => {
  test.each([0, 1, 999, 1000, 1_767_225_600_123, 1_767_225_600_999])('timestamp round trip %d', (ms) => {
    const ts = toTimestamp(ms);
    expect(ts.nanos).toBeGreaterThanOrEqual(0);
    expect(ts.nanos).toBeLessThan(1e9);
    expect(fromTimestamp(ts)).toBe(ms);
  });

  test('fromTimestamp of nothing is undefined and truncates sub-millisecond nanos', () => {
    expect(fromTimestamp(undefined)).toBeUndefined();
    expect(fromTimestamp({ seconds: 2, nanos: 1_999_999 })).toBe(2001);
  });

  test('segment accessors follow path.index', () => {
    const c = conn({ path: { index: 1, pathSegments: [seg('a', '1'), seg('b', '2'), seg('c', '3')] } });
    expect([prevSegment(c)?.name, currentSegment(c)?.name, nextSegment(c)?.name]).toEqual(['a', 'b', 'c']);
    c.path!.index = 0;
    expect(prevSegment(c)).toBeUndefined();
    c.path!.index = 2;
    expect(nextSegment(c)).toBeUndefined();
    expect(segments(emptyConnection())).toEqual([]);
    expect(currentSegment(emptyConnection())).toBeUndefined();
  });

  test('clone is deep and requestOf wraps a connection', () => {
    const c = conn({ labels: { a: '1' } });
    const d = clone(c);
    d.labels.a = '2';
    expect(c.labels.a).toBe('1');
    expect(requestOf(c)).toEqual({ connection: c, mechanismPreferences: [] });
  });
});
