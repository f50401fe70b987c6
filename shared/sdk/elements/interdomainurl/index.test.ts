import { chain, handler } from '../../core/networkservice';
import { UrlBook } from '../../registry/storeurl';
import { bg, conn, recorder, req } from '../../testing/elements';
import { clientUrlKey } from '../clienturl';
import { interdomainUrl } from './index';

function setup() {
  const book = new UrlBook();
  book.setRemote('nse-a@d2.example', 'tcp://198.51.100.7:5004');
  book.local.set('icmp-server', { name: 'icmp-server@floating.example', url: 'tcp://10.233.0.12:5001' });
  const rec = recorder();
  return { rec, h: handler(chain(interdomainUrl(book), rec.el)) };
}

test('an endpoint of another domain: to its nsmgr-proxy under its bare name; the full name comes back', async () => {
  const { rec, h } = setup();
  const out = await h.request(bg(), req(conn({ networkService: 'svc@d2.example', networkServiceEndpointName: 'nse-a@d2.example' })));
  expect(rec.requests[0].connection!.networkServiceEndpointName).toBe('nse-a');
  expect(rec.requests[0].connection!.networkService).toBe('svc@d2.example');
  expect(rec.contexts[0].get(clientUrlKey)).toBe('tcp://198.51.100.7:5004');
  expect(out.networkServiceEndpointName).toBe('nse-a@d2.example');
  await h.close(bg(), out);
  expect(rec.closes[0].networkServiceEndpointName).toBe('nse-a');
  expect(rec.contexts[1].get(clientUrlKey)).toBe('tcp://198.51.100.7:5004');
});

test('an endpoint of this domain registered in a floating domain: to its nsmgr under its full name', async () => {
  const { rec, h } = setup();
  const out = await h.request(bg(), req(conn({ networkService: 'svc@floating.example', networkServiceEndpointName: 'icmp-server' })));
  expect(rec.requests[0].connection!.networkServiceEndpointName).toBe('icmp-server@floating.example');
  expect(rec.contexts[0].get(clientUrlKey)).toBe('tcp://10.233.0.12:5001');
  expect(out.networkServiceEndpointName).toBe('icmp-server');
});

test('anything else passes on untouched, for discover', async () => {
  const { rec, h } = setup();
  await h.request(bg(), req(conn({ networkService: 'svc', networkServiceEndpointName: 'nse-b' })));
  expect(rec.requests[0].connection!.networkServiceEndpointName).toBe('nse-b');
  expect(rec.contexts[0].get(clientUrlKey)).toBeUndefined();
});

test('a name the book does not know (after a proxy restart) is looked up once, then routed', async () => {
  const book = new UrlBook();
  const asked: string[] = [];
  const rec = recorder();
  const h = handler(
    chain(
      interdomainUrl(book, async (_ctx, name) => {
        asked.push(name);
        if (name === 'nse-a@d2.example') book.setRemote(name, 'tcp://198.51.100.7:5004');
      }),
      rec.el,
    ),
  );
  await h.request(bg(), req(conn({ networkService: 'svc@d2.example', networkServiceEndpointName: 'nse-a@d2.example' })));
  expect(rec.contexts[0].get(clientUrlKey)).toBe('tcp://198.51.100.7:5004');
  expect(rec.requests[0].connection!.networkServiceEndpointName).toBe('nse-a');
  await h.request(bg(), req(conn({ networkService: 'svc@d2.example', networkServiceEndpointName: 'nse-a@d2.example' })));
  expect(asked).toEqual(['nse-a@d2.example']);
  // Still unknown after the lookup: passed on unchanged (discover answers NOT_FOUND).
  await h.request(bg(), req(conn({ networkService: 'svc@d2.example', networkServiceEndpointName: 'gone@d2.example' })));
  expect(rec.requests[2].connection!.networkServiceEndpointName).toBe('gone@d2.example');
  expect(rec.contexts[2].get(clientUrlKey)).toBeUndefined();
});
