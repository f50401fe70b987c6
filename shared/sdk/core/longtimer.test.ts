import { MAX_TIMER_DELAY_MS, setLongTimeout } from './longtimer';

describe('setLongTimeout', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 0, 1) }));
  afterEach(() => jest.useRealTimers());

  test('plain setTimeout fires a 40-day delay at once (the bug this avoids)', () => {
    const fn = jest.fn();
    // Fake timers model Node here: a delay beyond the maximum becomes 1 ms.
    setTimeout(fn, 40 * 86_400_000);
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  test('a 40-day delay fires after 40 days, not before', () => {
    const fn = jest.fn();
    const days40 = 40 * 86_400_000;
    setLongTimeout(fn, days40);
    jest.advanceTimersByTime(1);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(days40 - MAX_TIMER_DELAY_MS - 2);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(days40);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  test('exactly the maximum, short and negative delays behave like setTimeout', () => {
    const a = jest.fn();
    const b = jest.fn();
    const c = jest.fn();
    setLongTimeout(a, MAX_TIMER_DELAY_MS);
    setLongTimeout(b, 50);
    setLongTimeout(c, -5);
    jest.advanceTimersByTime(0);
    expect(c).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(50);
    expect(b).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(MAX_TIMER_DELAY_MS - 51);
    expect(a).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(a).toHaveBeenCalledTimes(1);
  });

  test('cancel works before and after re-arming', () => {
    const early = jest.fn();
    const late = jest.fn();
    setLongTimeout(early, 100).cancel();
    const t = setLongTimeout(late, 3 * MAX_TIMER_DELAY_MS);
    jest.advanceTimersByTime(MAX_TIMER_DELAY_MS + 10);
    t.cancel();
    jest.advanceTimersByTime(5 * MAX_TIMER_DELAY_MS);
    expect(early).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
  });

  test('Infinity and NaN never fire and arm no timer', () => {
    const fn = jest.fn();
    setLongTimeout(fn, Infinity);
    setLongTimeout(fn, NaN);
    jest.advanceTimersByTime(10 * MAX_TIMER_DELAY_MS);
    expect(fn).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });
});
