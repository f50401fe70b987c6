import { Context, createKey, sleep } from './context';

const k1 = createKey<string>('k1');
const k2 = createKey<number>('k2');

describe('Context', () => {
  test('values are inherited, shadowed by the nearest, and never leak to the parent', () => {
    const root = Context.background();
    const a = root.with(k1, 'a');
    const b = a.with(k2, 2).with(k1, 'b');
    expect(root.get(k1)).toBeUndefined();
    expect(a.get(k1)).toBe('a');
    expect(a.get(k2)).toBeUndefined();
    expect(b.get(k1)).toBe('b');
    expect(b.get(k2)).toBe(2);
  });

  test('keys with the same name are distinct', () => {
    const other = createKey<string>('k1');
    expect(Context.background().with(k1, 'x').get(other)).toBeUndefined();
  });

  test('withCancel cancels the derived context but not the parent; values survive', () => {
    const parent = Context.background().with(k1, 'v');
    const { ctx, cancel } = parent.withCancel();
    expect(ctx.done).toBe(false);
    cancel();
    expect(ctx.done).toBe(true);
    expect(parent.done).toBe(false);
    expect(ctx.get(k1)).toBe('v');
  });

  test('cancelling the parent cancels derived contexts', () => {
    const { ctx: parent, cancel } = Context.background().withCancel();
    const child = parent.with(k1, 'x').withCancel().ctx;
    cancel();
    expect(child.done).toBe(true);
  });

  test('withTimeout takes the earlier of its own and the parent deadline', () => {
    const now = 1_000_000;
    const { ctx: p, cancel: c1 } = Context.background().withTimeout(5000, now);
    const { ctx: shorter, cancel: c2 } = p.withTimeout(1000, now);
    const { ctx: longer, cancel: c3 } = p.withTimeout(60_000, now);
    expect(p.remaining(now)).toBe(5000);
    expect(shorter.deadline).toBe(now + 1000);
    expect(longer.deadline).toBe(now + 5000);
    expect(Context.background().remaining()).toBeUndefined();
    c1();
    c2();
    c3();
    expect(shorter.done).toBe(true);
  });

  test('withTimeout aborts after the time with "deadline exceeded"', async () => {
    const { ctx } = Context.background().withTimeout(5);
    await new Promise((r) => setTimeout(r, 30));
    expect(ctx.done).toBe(true);
    expect(String(ctx.signal.reason)).toMatch(/deadline exceeded/);
  });

  test('detached keeps the values and the remaining budget but not the cancellation', () => {
    const now = Date.now();
    const { ctx: parent, cancel } = Context.background().with(k1, 'v').withTimeout(10_000, now);
    const { ctx: d, cancel: dc } = parent.detached(now);
    cancel();
    expect(parent.done).toBe(true);
    expect(d.done).toBe(false);
    expect(d.get(k1)).toBe('v');
    expect(d.deadline).toBe(now + 10_000);
    dc();
    expect(d.done).toBe(true);
    const { ctx: nd, cancel: ndc } = Context.background().detached();
    expect(nd.deadline).toBeUndefined();
    ndc();
  });

  test('sleep resolves after the time and rejects when the context ends first', async () => {
    await expect(sleep(Context.background(), 1)).resolves.toBeUndefined();
    const { ctx, cancel } = Context.background().withCancel();
    const p = sleep(ctx, 10_000);
    cancel(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    await expect(sleep(ctx, 1)).rejects.toThrow('stop');
  });
});
