import { Connection, Mechanism, NetworkServiceRequest } from '@nsm/api';
import { Code } from '../../core/errors';
import { chain, handler } from '../../core/networkservice';
import { incomingMetadataKey } from '../../grpc/keys';
import { bg, conn, recorder, req, seg } from '../../testing/elements';
import { validate } from './index';

describe('validate', () => {
  const vxlan = (p: Record<string, string>) => Mechanism.fromPartial({ cls: 'REMOTE', type: 'VXLAN', parameters: p });
  const cases: [string, NetworkServiceRequest, Code | undefined, RegExp | undefined][] = [
    ['valid', req(conn({ id: 'a' }), [{ cls: 'LOCAL', type: 'KERNEL', parameters: {} }]), undefined, undefined],
    ['valid with a path', req(conn({ path: { index: 0, pathSegments: [seg('a', 'a')] } })), undefined, undefined],
    ['no connection', { connection: undefined, mechanismPreferences: [] }, Code.INVALID_ARGUMENT, /request\.connection is required/],
    ['no network service', req(conn({ networkService: '' })), Code.INVALID_ARGUMENT, /network_service must not be empty/],
    ['index out of range', req(conn({ path: { index: 1, pathSegments: [seg('a', 'a')] } })), Code.INVALID_ARGUMENT, /path\.index 1 is out of range: the path has 1 segment/],
    ['mechanism without type', req(conn(), [{ cls: 'LOCAL', type: 'KERNEL', parameters: {} }, { cls: 'LOCAL', type: '', parameters: {} }]), Code.INVALID_ARGUMENT, /mechanism_preferences\[1\]\.type/],
    ['a shell-shaped src_ip', req(conn(), [vxlan({}), vxlan({}), vxlan({ src_ip: '192.0.2.1\nnetns add X #' })]), Code.INVALID_ARGUMENT, /^mechanism_preferences\[2\]\.parameters\["src_ip"\]: "192\.0\.2\.1\\nnetns add X #" is not an IP address$/],
    ['10,000 labels', req(conn({ labels: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'])) })), Code.RESOURCE_EXHAUSTED, /connection\.labels: 10000 entries, at most 64/],
    ['1,000 mechanism preferences', req(conn(), Array.from({ length: 1000 }, () => vxlan({}))), Code.RESOURCE_EXHAUSTED, /mechanism_preferences: 1000 entries, at most 16/],
  ];
  test.each(cases)('Request: %s', async (...[, r, code, err]: (typeof cases)[number]) => {
    const rec = recorder();
    const p = handler(chain(validate(), rec.el)).request(bg(), r);
    if (code === undefined) {
      await p;
      expect(rec.requests).toHaveLength(1);
    } else {
      await expect(p).rejects.toMatchObject({ code, message: expect.stringMatching(err!) });
      expect(rec.requests).toHaveLength(0);
    }
  });

  test('Close is checked as a whole connection', async () => {
    const h = handler(validate());
    await h.close(bg(), conn({ networkService: '' }));
    await expect(h.close(bg(), conn({ path: { index: 4, pathSegments: [seg('a', 'a')] } }))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(h.close(bg(), conn({ mechanism: { cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'a b' } } }))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/^connection\.mechanism\.parameters\["name"\]/) });
    await expect(h.close(bg(), undefined as unknown as Connection)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  test('the caller token in the call metadata is checked too', async () => {
    const h = handler(validate());
    const ctx = bg().with(incomingMetadataKey, { 'nsm-client-token': 'a.b.c\r\nx: y', 'nsm-client-token-expires': '2026-01-01T00:00:00Z' });
    await expect(h.request(ctx, req(conn()))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/^metadata nsm-client-token: /) });
    const ok = bg().with(incomingMetadataKey, { 'nsm-client-token': 'a.b.c', 'nsm-client-token-expires': '2026-01-01T00:00:00.5Z' });
    await expect(h.request(ok, req(conn()))).resolves.toBeDefined();
  });
});
