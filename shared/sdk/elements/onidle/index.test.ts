import { FakeClock } from '../../core/clock';
import { Code } from '../../core/errors';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, failer, req } from '../../testing/elements';
import { onIdle } from './index';

function setup(timeoutMs = 1000) {
  const clock = new FakeClock();
  const notify = jest.fn();
  const f = failer();
  const h = handler(chain(onIdle(timeoutMs, notify, clock), f.el));
  return { clock, notify, f, h };
}

describe('onidle', () => {
  test('notifies once after the timeout with no connections, then refuses requests', async () => {
    const s = setup();
    await s.clock.advance(999);
    expect(s.notify).not.toHaveBeenCalled();
    await s.clock.advance(1);
    expect(s.notify).toHaveBeenCalledTimes(1);
    await expect(s.h.request(bg(), req(conn({ id: 'a' })))).rejects.toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringMatching(/endpoint expired/) });
    await s.clock.advance(10_000);
    expect(s.notify).toHaveBeenCalledTimes(1);
  });

  test('an active connection keeps it alive; the last Close restarts the full timeout', async () => {
    const s = setup();
    await s.clock.advance(500);
    await s.h.request(bg(), req(conn({ id: 'a' })));
    await s.h.request(bg(), req(conn({ id: 'b' })));
    await s.clock.advance(5000);
    await s.h.close(bg(), conn({ id: 'a' }));
    await s.clock.advance(5000);
    expect(s.notify).not.toHaveBeenCalled();
    await s.h.close(bg(), conn({ id: 'b' }));
    await s.clock.advance(999);
    expect(s.notify).not.toHaveBeenCalled();
    await s.clock.advance(1);
    expect(s.notify).toHaveBeenCalledTimes(1);
  });

  test('a failed first request does not count as activity; a failed refresh keeps the connection', async () => {
    const s = setup();
    s.f.requestFailures = 1;
    await expect(s.h.request(bg(), req(conn({ id: 'a' })))).rejects.toThrow();
    await s.clock.advance(1000);
    expect(s.notify).toHaveBeenCalledTimes(1);

    const t = setup();
    await t.h.request(bg(), req(conn({ id: 'a' })));
    t.f.requestFailures = 1;
    await expect(t.h.request(bg(), req(conn({ id: 'a' })))).rejects.toThrow();
    await t.clock.advance(5000);
    expect(t.notify).not.toHaveBeenCalled();
  });

  test('retirement race: a Request still on its way when the timeout passes keeps the endpoint; one after it is refused, to be retried elsewhere', async () => {
    const clock = new FakeClock();
    const notify = jest.fn();
    let release!: () => void;
    const slow = { request: (_ctx: unknown, r: { connection?: unknown }) => new Promise((res) => (release = () => res(r.connection))) };
    const h = handler(chain(onIdle(1000, notify, clock), slow as never));
    await clock.advance(900);
    const inFlight = h.request(bg(), req(conn({ id: 'a' })));
    await clock.advance(5000);
    expect(notify).not.toHaveBeenCalled();
    release();
    await expect(inFlight).resolves.toMatchObject({ id: 'a' });
    await h.close(bg(), conn({ id: 'a' }));
    await clock.advance(1000);
    expect(notify).toHaveBeenCalledTimes(1);
    await expect(h.request(bg(), req(conn({ id: 'b' })))).rejects.toMatchObject({ code: Code.UNAVAILABLE, message: 'endpoint expired (idle timeout)' });
  });

  test('a zero timeout disables it', async () => {
    const s = setup(0);
    await s.clock.advance(100_000);
    expect(s.notify).not.toHaveBeenCalled();
    expect(s.clock.timers).toBe(0);
  });
});
