import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { Code } from '../../core/errors';
import { registryHandler } from '../../core/registry';
import { nsKind, nseKind } from '../../core/recordkinds';
import { validate } from './index';

const ctx = Context.background();

describe('validate', () => {
  const nse = registryHandler(validate(nseKind));
  const ns = registryHandler(validate(nsKind));

  test('a well-formed record passes through', async () => {
    const item = NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'unix:///a.sock', networkServiceNames: ['s'] });
    await expect(nse.register(ctx, item)).resolves.toEqual(item);
    await expect(ns.register(ctx, NetworkService.fromPartial({ name: 's' }))).resolves.toMatchObject({ name: 's' });
  });

  test.each([
    [NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'unix:///a', expirationTime: { seconds: 1, nanos: 2e9 } }), Code.INVALID_ARGUMENT, /expiration_time: .* is not a time/],
    [NetworkServiceEndpoint.fromPartial({ name: 'x'.repeat(254), url: 'unix:///a' }), Code.RESOURCE_EXHAUSTED, /name: 254 bytes long, at most 253/],
    [NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'unix:///a', networkServiceLabels: { s: { labels: { 'bad key': 'v' } } } }), Code.INVALID_ARGUMENT, /labels key: "bad key" contains whitespace/],
  ])('NSE %#: refused', async (item, code, msg) => {
    await expect(nse.register(ctx, item)).rejects.toMatchObject({ code, message: expect.stringMatching(msg) });
  });

  test('Find needs a template and checks it; Unregister needs a name and checks the rest', async () => {
    await expect(nse.find(ctx, { item: undefined as never, watch: false }, () => undefined)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    const hostile = NetworkServiceEndpoint.fromPartial({ networkServiceNames: Array.from({ length: 33 }, (_, i) => `s${i}`) });
    await expect(nse.find(ctx, { item: hostile, watch: true }, () => undefined)).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    await expect(nse.find(ctx, { item: NetworkServiceEndpoint.fromPartial({ url: '10.0.0' }), watch: false }, () => undefined)).resolves.toBeUndefined();
    await expect(ns.unregister(ctx, NetworkService.fromPartial({}))).rejects.toThrow(/network_service\.name must not be empty/);
    await expect(ns.unregister(ctx, NetworkService.fromPartial({ name: 'a\nb' }))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
