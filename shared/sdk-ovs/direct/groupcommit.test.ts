import { GroupCommit, Outcome } from './groupcommit';

const tick = () => new Promise((r) => setTimeout(r, 5));

test('requests arriving during a flush share the next one, each with its own outcome', async () => {
  const batches: string[][] = [];
  const g = new GroupCommit<string, string>(async (batch) => {
    batches.push(batch);
    await tick();
    return batch.map((x): Outcome<string> => (x === 'bad' ? { ok: false, error: new Error(`refused ${x}`) } : { ok: true, value: x.toUpperCase() }));
  });
  const out = await Promise.allSettled(['a', 'b', 'bad', 'c'].map((x) => g.submit(x)));
  expect(batches).toEqual([['a'], ['b', 'bad', 'c']]);
  expect(out.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['A', 'B', 'refused bad', 'C']);
  expect(g.flushes).toBe(2);
  expect(g.largest).toBe(3);
});

test('a flush that throws fails its whole batch, and the next batch still runs', async () => {
  let n = 0;
  const g = new GroupCommit<number, number>(async (batch) => {
    await tick();
    if (n++ === 1) throw new Error('connection lost');
    return batch.map((x) => ({ ok: true, value: x * 2 }));
  });
  const first = await Promise.allSettled([1, 2, 3].map((x) => g.submit(x)));
  expect(first.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  expect(await g.submit(4)).toBe(8);
});
