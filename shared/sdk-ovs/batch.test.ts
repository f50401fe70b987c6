import { OvsBatcher } from './batch';
import type { Ovs, PortSpec } from './ovs';

/** A stand-in Ovs that records the calls it gets and answers after a tick. */
function fakeOvs(failOn?: string) {
  const calls: string[][] = [];
  let next = 1;
  const ovs = {
    async addPorts(_b: string, specs: PortSpec[]) {
      calls.push(['add', ...specs.map((s) => s.name)]);
      await new Promise((r) => setTimeout(r, 5));
      if (failOn && specs.some((s) => s.name === failOn)) throw new Error(`cannot open ${failOn}`);
      return Object.fromEntries(specs.map((s) => [s.name, next++]));
    },
    async delPorts(_b: string, names: string[]) {
      calls.push(['del', ...names]);
    },
    async addFlows(_b: string, flows: string[]) {
      calls.push(['flows', ...flows]);
      await new Promise((r) => setTimeout(r, 5));
    },
  };
  return { ovs: ovs as unknown as Ovs, calls };
}

test('concurrent port additions are merged into one transaction after the first', async () => {
  const { ovs, calls } = fakeOvs();
  const b = new OvsBatcher(ovs, 'br');
  const results = await Promise.all(['a', 'b', 'c', 'd'].map((n) => b.addPorts([{ name: n }])));
  expect(calls).toEqual([['add', 'a'], ['add', 'b', 'c', 'd']]);
  expect(results.map((r) => Object.keys(r)[0])).toEqual(['a', 'b', 'c', 'd']);
  expect(new Set(results.map((r) => Object.values(r)[0])).size).toBe(4);
});

test('a merged transaction that fails is retried call by call, failing only the bad one', async () => {
  const { ovs, calls } = fakeOvs('bad');
  const b = new OvsBatcher(ovs, 'br');
  const out = await Promise.allSettled(['x', 'good', 'bad', 'fine'].map((n) => b.addPorts([{ name: n }])));
  expect(out.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  expect(calls[1]).toEqual(['add', 'good', 'bad', 'fine']);
});

test('rule changes are merged too, deletions by cookie as add-flows lines', async () => {
  const { ovs, calls } = fakeOvs();
  const b = new OvsBatcher(ovs, 'br');
  await Promise.all([b.applyFlows(['f1']), b.applyFlows([OvsBatcher.deleteByCookie('0x1')]), b.applyFlows(['f2'])]);
  expect(calls).toEqual([['flows', 'f1'], ['flows', 'delete cookie=0x1/-1', 'f2']]);
});
