// Node fires a setTimeout whose delay exceeds 2^31-1 ms (about 24.8 days) after 1 ms instead, with a
// warning. Token expiries, leases and SVID rotations can be further away than that (a 40-day token
// closed its connection at once), so long delays are split: the timer re-arms in steps of at most
// the maximum until the target time is reached.

/** The largest delay setTimeout honours. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface LongTimer {
  cancel(): void;
}

export interface LongTimerOptions {
  /** Keep the process alive while the timer is pending (setTimeout's default); off by default. */
  ref?: boolean;
  /** Time source in epoch ms; the target is computed against it so that re-arming does not drift. */
  now?: () => number;
}

/** Runs `fn` once after `ms` (clamped to ≥ 0), however large `ms` is. Non-finite delays never fire. */
export function setLongTimeout(fn: () => void, ms: number, opts: LongTimerOptions = {}): LongTimer {
  const now = opts.now ?? Date.now;
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  if (Number.isNaN(ms) || ms === Infinity) return { cancel: () => undefined };
  const target = now() + Math.max(0, ms);
  const arm = () => {
    const left = target - now();
    handle = setTimeout(
      () => {
        if (cancelled) return;
        if (target - now() > 0) arm();
        else fn();
      },
      Math.min(Math.max(0, left), MAX_TIMER_DELAY_MS),
    );
    if (!opts.ref) handle.unref?.();
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    },
  };
}
