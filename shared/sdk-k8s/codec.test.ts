import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { sampleEndpoint, sampleService } from '@nsm/sdk/testing/store.suite';
import { networkServiceCodec, networkServiceEndpointCodec } from './codec';

describe('CRD spec codec', () => {
  it('writes a NetworkServiceEndpoint as Go encoding/json does: snake_case, empty fields left out', () => {
    expect(networkServiceEndpointCodec.toSpec(sampleEndpoint('nse-1'))).toEqual({
      name: 'nse-1',
      network_service_names: ['svc-a', 'svc-b'],
      network_service_labels: { 'svc-a': { labels: { app: 'nse', nodeName: 'node-1' } } },
      url: 'tcp://10.0.0.1:5001',
      expiration_time: { seconds: 1_767_225_660, nanos: 123_456_789 },
      initial_registration_time: { seconds: 1_767_225_600 },
    });
    // A labels entry without labels is still a non-nil message: {}.
    expect(networkServiceEndpointCodec.toSpec(sampleEndpoint('nse-1', 1)).network_service_labels).toEqual({ 'svc-b': {} });
  });

  it('writes a NetworkService with match metadata kept even when empty', () => {
    expect(networkServiceCodec.toSpec(sampleService('svc'))).toEqual({
      name: 'svc',
      payload: 'ETHERNET',
      matches: [
        {
          source_selector: { app: 'client' },
          routes: [{ destination_selector: { app: 'nse', nodeName: '{{.nodeName}}' }, weight: 3 }],
          fallthrough: true,
          metadata: { labels: { p2p: 'true' } },
        },
        { routes: [{ destination_selector: { app: 'supplier-0' } }] },
        { metadata: {} },
      ],
    });
  });

  it('reads what it writes', () => {
    for (const v of [0, 1]) {
      expect(networkServiceCodec.fromSpec(networkServiceCodec.toSpec(sampleService('s', v)), 's')).toEqual(sampleService('s', v));
      expect(networkServiceEndpointCodec.fromSpec(networkServiceEndpointCodec.toSpec(sampleEndpoint('e', v)), 'e')).toEqual(sampleEndpoint('e', v));
    }
  });

  it('takes the record name from metadata.name and tolerates hand-written specs', () => {
    const nse = networkServiceEndpointCodec.fromSpec(
      { network_service_names: ['svc'], expiration_time: '2026-01-01T00:01:00.123456789Z', initial_registration_time: { seconds: '1767225600' } },
      'nse-abcde',
    );
    expect(nse).toEqual(
      NetworkServiceEndpoint.fromPartial({
        name: 'nse-abcde',
        networkServiceNames: ['svc'],
        expirationTime: { seconds: 1_767_225_660, nanos: 123_456_789 },
        initialRegistrationTime: { seconds: 1_767_225_600, nanos: 0 },
      }),
    );
    expect(networkServiceCodec.fromSpec(undefined, 'x')).toEqual(NetworkService.fromPartial({ name: 'x' }));
  });
});

/** Every key path the codec writes must be declared in the CRD schema, or the API server prunes it. */
describe('CRD schemas', () => {
  const load = (f: string) => parse(readFileSync(join(__dirname, 'crds', f), 'utf8'));

  function undeclared(schema: any, value: unknown, path: string): string[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => undeclared(schema.items, v, `${path}[${i}]`));
    if (value && typeof value === 'object') {
      return Object.entries(value).flatMap(([k, v]) => {
        const sub = schema.properties?.[k] ?? schema.additionalProperties;
        return sub ? undeclared(sub, v, `${path}.${k}`) : [`${path}.${k}`];
      });
    }
    const t = typeof value === 'number' ? 'integer' : typeof value;
    return schema.type === t ? [] : [`${path} (${t}, schema says ${schema.type})`];
  }

  it.each([
    ['networkservices.yaml', 'NetworkService', 'networkservices', () => networkServiceCodec.toSpec(sampleService('s'))],
    ['networkserviceendpoints.yaml', 'NetworkServiceEndpoint', 'networkserviceendpoints', () => networkServiceEndpointCodec.toSpec({ ...sampleEndpoint('e'), pathIds: ['spiffe://x/y'] })],
  ])('%s declares every field the store writes', (file, kind, plural, spec) => {
    const crd = load(file);
    expect(crd.metadata.name).toBe(`${plural}.networkservicemesh.io`);
    expect(crd.spec.names).toMatchObject({ kind, listKind: `${kind}List`, plural });
    const [v1] = crd.spec.versions;
    expect(v1).toMatchObject({ name: 'v1', served: true, storage: true });
    expect(undeclared(v1.schema.openAPIV3Schema.properties.spec, spec(), 'spec')).toEqual([]);
  });
});
