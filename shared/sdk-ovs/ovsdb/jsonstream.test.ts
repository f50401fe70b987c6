import { JsonStreamSplitter } from './jsonstream';

test('messages back to back, split anywhere, come out whole and in order', () => {
  const msgs = [{ id: 1, result: [{ rows: [{ name: 'a}b{', v: '"q"' }] }] }, { id: null, method: 'update', params: ['m', { T: { u: { new: { s: 'ä€😀\\' } } } }] }, { id: 'echo', result: [] }];
  const bytes = Buffer.from(msgs.map((m) => JSON.stringify(m)).join('\n'));
  // Every split point, including inside multi-byte characters and escapes.
  for (let cut = 1; cut < bytes.length; cut++) {
    const s = new JsonStreamSplitter();
    const out = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut))];
    expect(out.map((t) => JSON.parse(t))).toEqual(msgs);
    expect(s.pending).toBe(0);
  }
});

test('one byte at a time', () => {
  const s = new JsonStreamSplitter();
  const text = JSON.stringify({ a: [1, { b: '[]{}' }] }) + JSON.stringify({ c: 2 });
  const out: string[] = [];
  for (const b of Buffer.from(text)) out.push(...s.push(Buffer.from([b])));
  expect(out.map((t) => JSON.parse(t))).toEqual([{ a: [1, { b: '[]{}' }] }, { c: 2 }]);
});

test('garbage between messages, unbalanced input and oversized messages are refused', () => {
  expect(() => new JsonStreamSplitter().push(Buffer.from('{"a":1} x'))).toThrow(/unexpected byte/);
  expect(() => new JsonStreamSplitter().push(Buffer.from('}'))).toThrow(/unbalanced/);
  expect(() => new JsonStreamSplitter().push(Buffer.from('"s"'))).toThrow(/must be an object/);
  const s = new JsonStreamSplitter(100);
  expect(() => s.push(Buffer.from(`{"a":"${'x'.repeat(200)}`))).toThrow(/exceeds 100 bytes/);
});
