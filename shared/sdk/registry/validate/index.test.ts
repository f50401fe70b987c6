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
    [NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'unix:///a', expirationTime: { seconds: 1, nanos: 2e9 } }), /expiration_time is out of range/],
    [NetworkServiceEndpoint.fromPartial({ name: 'x'.repeat(254), url: 'unix:///a' }), /name is longer than 253/],
    [NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'unix:///a', networkServiceLabels: { s: { labels: { 'bad key': 'v' } } } }), /"bad key" is not a valid label key/],
  ])('NSE %#: INVALID_ARGUMENT', async (item, msg) => {
    await expect(nse.register(ctx, item)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(msg) });
  });

  test('Find needs a template; Unregister needs a name', async () => {
    await expect(nse.find(ctx, { item: undefined as never, watch: false }, () => undefined)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(ns.unregister(ctx, NetworkService.fromPartial({}))).rejects.toThrow(/network_service\.name must not be empty/);
  });
});
