import { NetworkService } from '@nsm/api';
import { Context } from '../../core/context';
import { registryHandler } from '../../core/registry';
import { setPayload } from './index';

test('an empty payload becomes IP (or the configured default); a given one is kept', async () => {
  const ctx = Context.background();
  expect((await registryHandler(setPayload()).register(ctx, NetworkService.fromPartial({ name: 's' }))).payload).toBe('IP');
  expect((await registryHandler(setPayload('ETHERNET')).register(ctx, NetworkService.fromPartial({ name: 's' }))).payload).toBe('ETHERNET');
  expect((await registryHandler(setPayload()).register(ctx, NetworkService.fromPartial({ name: 's', payload: 'ETHERNET' }))).payload).toBe('ETHERNET');
});
