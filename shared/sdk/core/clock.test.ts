import { FakeClock, flushPromises, realClock } from './clock';

describe('FakeClock', () => {
  test('fires due timers in time order, then by creation order, and sets now to each due time', async () => {
    const clock = new FakeClock(0);
    const fired: [string, number][] = [];
    clock.after(30, () => fired.push(['c', clock.now()]));
    clock.after(10, () => fired.push(['a', clock.now()]));
    clock.after(10, () => fired.push(['b', clock.now()]));
    clock.after(100, () => fired.push(['late', clock.now()]));
    await clock.advance(50);
    expect(fired).toEqual([['a', 10], ['b', 10], ['c', 30]]);
    expect(clock.now()).toBe(50);
    expect(clock.timers).toBe(1);
  });

  test('cancelled timers never fire', async () => {
    const clock = new FakeClock(0);
    const fn = jest.fn();
    clock.after(5, fn).cancel();
    await clock.advance(10);
    expect(fn).not.toHaveBeenCalled();
    expect(clock.timers).toBe(0);
  });

  test('promise callbacks run between timers, and timers they set within the window fire too', async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.after(10, () => {
      void Promise.resolve().then(() => clock.after(10, () => fired.push(clock.now())));
    });
    await clock.advance(25);
    expect(fired).toEqual([20]);
  });

  test('negative delays fire at once; the default start is 2026-01-01', async () => {
    const clock = new FakeClock();
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1));
    const fn = jest.fn();
    clock.after(-5, fn);
    await clock.advance(0);
    expect(fn).toHaveBeenCalled();
  });

  test('realClock timers can be cancelled', async () => {
    const fn = jest.fn();
    realClock.after(1, fn).cancel();
    await new Promise((r) => setTimeout(r, 10));
    await flushPromises(1);
    expect(fn).not.toHaveBeenCalled();
    expect(Math.abs(realClock.now() - Date.now())).toBeLessThan(1000);
  });

  test('realClock takes delays past setTimeout\'s 24.8-day limit (they used to fire after 1 ms)', () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    try {
      const fn = jest.fn();
      realClock.after(40 * 86_400_000, fn);
      jest.advanceTimersByTime(1000);
      expect(fn).not.toHaveBeenCalled();
      jest.advanceTimersByTime(40 * 86_400_000);
      expect(fn).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
