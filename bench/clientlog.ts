// What the heal benchmarks read from the client's log: when it was ready (its first Request done) and
// when it reported its connection healed. A kill before the client is ready lands in its first
// Request, which the client's retry finishes, not its heal: that measures nothing about healing.
import { readFileSync } from 'node:fs';

/** The time of the first line of `logFile` whose message is `msg` at or after `since`, or undefined. */
function loggedAt(logFile: string, msg: string, since: number): number | undefined {
  try {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.includes(msg)) continue;
      const entry = JSON.parse(line) as { time: string; msg?: string };
      const t = Date.parse(entry.time);
      if (entry.msg === msg && t >= since) return t;
    }
  } catch {
    /* not yet */
  }
  return undefined;
}

/** When the client logged its connection healed after `since`, or undefined. */
export const healedAt = (logFile: string, since: number): number | undefined => loggedAt(logFile, 'connection healed', since);

/** Waits until the client logged that it is ready (its connections are established). */
export async function untilClientReady(logFile: string, limitMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (loggedAt(logFile, 'ready', 0) === undefined) {
    if (Date.now() - t0 > limitMs) throw new Error(`the client was not ready within ${limitMs} ms (${logFile})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
