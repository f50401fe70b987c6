import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { findAll, registryChain, registryHandler } from '../../core/registry';
import { nseKind } from '../../core/recordkinds';
import { floatingUrls } from '../floatingurls';
import { setUrl } from '../seturl';
import { storeElement } from '../store';
import { MemoryRegistryStore } from '../store/memory';
import { swapIpRegistry, swapUrl } from '../swapip';
import { ipSwap, parseIpMap } from '../../input/ipmap';
import { storeUrl, UrlBook } from './index';

// The nsmgr-proxy's NSE chain around a stand-in for the registry proxy (a store).
const ctx = Context.background();
const swap = ipSwap(parseIpMap('10.233.0.1: 192.0.2.1\n10.233.0.12: 192.0.2.12'));

function proxyChain() {
  const book = new UrlBook();
  const beyond = new MemoryRegistryStore<NetworkServiceEndpoint>('NetworkServiceEndpoint');
  const h = registryHandler(registryChain(floatingUrls(book), setUrl('tcp://10.233.0.1:5004'), swapIpRegistry(swap), storeUrl(book), storeElement(nseKind, beyond)));
  return { book, beyond, h };
}

test('what registers beyond the domain is reached through this proxy, at its external address', async () => {
  const p = proxyChain();
  const out = await p.h.register(ctx, NetworkServiceEndpoint.fromPartial({ name: 'icmp-server@floating.example', url: 'tcp://10.233.0.12:5001', networkServiceNames: ['svc@floating.example'] }));
  expect(out.url).toBe('tcp://10.233.0.12:5001');
  expect((await p.beyond.list()).map((n) => n.url)).toEqual(['tcp://192.0.2.1:5004']);
  // floatingurls: the other side will ask for the bare name; this proxy knows the local endpoint.
  expect(p.book.local.get('icmp-server')).toEqual({ name: 'icmp-server@floating.example', url: 'tcp://10.233.0.12:5001' });
  await p.h.unregister(ctx, out);
  expect(p.book.local.size).toBe(0);
});

test('Find: the URL each result had is kept by name; the caller sees this proxy', async () => {
  const p = proxyChain();
  await p.beyond.put(NetworkServiceEndpoint.fromPartial({ name: 'nse-a@d2.example', url: 'tcp://198.51.100.7:5004', networkServiceNames: ['svc@d2.example'] }));
  const found = await findAll(p.h, ctx, NetworkServiceEndpoint.fromPartial({ networkServiceNames: ['svc@d2.example'] }));
  expect(found.map((f) => f.item.url)).toEqual(['tcp://10.233.0.1:5004']);
  expect(p.book.remote.get('nse-a@d2.example')).toBe('tcp://198.51.100.7:5004');
});

test.each([
  ['tcp://10.233.0.12:5001', 'tcp://192.0.2.12:5001'],
  ['tcp://192.0.2.12:5001', 'tcp://10.233.0.12:5001'],
  ['10.233.0.1:5002', '192.0.2.1:5002'],
  ['tcp://10.9.9.9:5001', 'tcp://10.9.9.9:5001'],
  ['tcp://registry:5002', 'tcp://registry:5002'],
  ['unix:///var/lib/nsm.sock', 'unix:///var/lib/nsm.sock'],
])('swapUrl(%j)', (url, want) => expect(swapUrl(url, swap)).toBe(want));
