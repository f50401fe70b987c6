import { Connection, NetworkServiceRequest } from '@nsm/api';
import { Code } from '../../core/errors';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, recorder, req, seg } from '../../testing/elements';
import { validate } from './index';

describe('validate', () => {
  const cases: [string, NetworkServiceRequest, RegExp | null][] = [
    ['valid', req(conn({ id: 'a' }), [{ cls: 'LOCAL', type: 'KERNEL', parameters: {} }]), null],
    ['valid with a path', req(conn({ path: { index: 0, pathSegments: [seg('a', 'a')] } })), null],
    ['no connection', { connection: undefined, mechanismPreferences: [] }, /request\.connection is required/],
    ['no network service', req(conn({ networkService: '' })), /network_service must not be empty/],
    ['index out of range', req(conn({ path: { index: 1, pathSegments: [seg('a', 'a')] } })), /path\.index 1 is out of range: the path has 1 segment/],
    ['mechanism without type', req(conn(), [{ cls: 'LOCAL', type: 'KERNEL', parameters: {} }, { cls: 'LOCAL', type: '', parameters: {} }]), /mechanism_preferences\[1\]\.type/],
  ];
  test.each(cases)('Request: %s', async (_n, r, err) => {
    const rec = recorder();
    const p = handler(chain(validate(), rec.el)).request(bg(), r);
    if (!err) {
      await p;
      expect(rec.requests).toHaveLength(1);
    } else {
      await expect(p).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(err) });
      expect(rec.requests).toHaveLength(0);
    }
  });

  test('Close checks the path index only', async () => {
    const h = handler(validate());
    await h.close(bg(), conn({ networkService: '' }));
    await expect(h.close(bg(), conn({ path: { index: 4, pathSegments: [seg('a', 'a')] } }))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(h.close(bg(), undefined as unknown as Connection)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
