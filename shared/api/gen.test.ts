// The generated TypeScript must be what the .proto files produce today (buf + ts-proto from npm).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

test('generated API code is up to date with the .proto files', () => {
  const out = execFileSync(process.execPath, [join(__dirname, '../../tools/gen-api.mjs'), '--check'], { encoding: 'utf8' });
  expect(out).toContain('up to date');
});

test('wire names match NSM api v1.1.1', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const api = require('./index');
  expect(api.NetworkServiceService.request.path).toBe('/networkservice.NetworkService/Request');
  expect(api.NetworkServiceService.close.path).toBe('/networkservice.NetworkService/Close');
  expect(api.MonitorConnectionService.monitorConnections.path).toBe('/connection.MonitorConnection/MonitorConnections');
  for (const m of ['register', 'find', 'unregister']) {
    expect(api.NetworkServiceRegistryService[m].path).toBe(`/registry.NetworkServiceRegistry/${m[0].toUpperCase()}${m.slice(1)}`);
    expect(api.NetworkServiceEndpointRegistryService[m].path).toBe(`/registry.NetworkServiceEndpointRegistry/${m[0].toUpperCase()}${m.slice(1)}`);
  }
});

test('field numbers survive a round trip through the wire format', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Connection } = require('./index');
  const c = Connection.fromPartial({ id: 'a', networkService: 'svc', networkServiceEndpointName: 'nse', payload: 'IP', state: 1, path: { index: 0, pathSegments: [{ name: 'n', id: 'a' }] } });
  const bytes: Uint8Array = Connection.encode(c).finish();
  // id = field 1 (tag 0x0a), network_service = field 2 (0x12), network_service_endpoint_name = 7 (0x3a), payload = 8 (0x42), state = 9 (0x48)
  const tags = new Set<number>();
  for (let i = 0; i < bytes.length; ) {
    const tag = bytes[i];
    tags.add(tag);
    const wire = tag & 7;
    i++;
    if (wire === 0) {
      while (bytes[i] & 0x80) i++;
      i++;
    } else if (wire === 2) {
      const len = bytes[i];
      i += 1 + len;
    }
  }
  expect([...tags]).toEqual(expect.arrayContaining([0x0a, 0x12, 0x32, 0x3a, 0x42, 0x48]));
  expect(Connection.decode(bytes)).toMatchObject({ id: 'a', networkService: 'svc', networkServiceEndpointName: 'nse', payload: 'IP', state: 1 });
});
