// The Workload API must match what SPIRE agents serve byte for byte: method paths without a package,
// and the field numbers of the published proto.
import { SpiffeWorkloadAPIService, X509SVIDResponse } from './spiffe';

test('method paths have no package', () => {
  expect(SpiffeWorkloadAPIService.fetchX509Svid.path).toBe('/SpiffeWorkloadAPI/FetchX509SVID');
  expect(SpiffeWorkloadAPIService.fetchX509Bundles.path).toBe('/SpiffeWorkloadAPI/FetchX509Bundles');
  expect(SpiffeWorkloadAPIService.fetchJwtsvid.path).toBe('/SpiffeWorkloadAPI/FetchJWTSVID');
  expect(SpiffeWorkloadAPIService.fetchJwtBundles.path).toBe('/SpiffeWorkloadAPI/FetchJWTBundles');
  expect(SpiffeWorkloadAPIService.validateJwtsvid.path).toBe('/SpiffeWorkloadAPI/ValidateJWTSVID');
  expect(SpiffeWorkloadAPIService.fetchX509Svid.responseStream).toBe(true);
});

test('X509SVIDResponse field numbers: svids=1 {spiffe_id=1, x509_svid=2, x509_svid_key=3, bundle=4, hint=5}, crl=2, federated_bundles=3', () => {
  const msg = X509SVIDResponse.fromPartial({
    svids: [{ spiffeId: 'spiffe://td/a', x509Svid: Buffer.from([1]), x509SvidKey: Buffer.from([2]), bundle: Buffer.from([3]), hint: 'h' }],
    crl: [Buffer.from([4])],
    federatedBundles: { other: Buffer.from([5]) },
  });
  const bytes = Buffer.from(X509SVIDResponse.encode(msg).finish());
  // Hand-built expectation: tag = field << 3 | 2 (length-delimited) for every field here.
  const svid = Buffer.concat([
    Buffer.from([0x0a, 13]), Buffer.from('spiffe://td/a'),
    Buffer.from([0x12, 1, 1]),
    Buffer.from([0x1a, 1, 2]),
    Buffer.from([0x22, 1, 3]),
    Buffer.from([0x2a, 1]), Buffer.from('h'),
  ]);
  const entry = Buffer.concat([Buffer.from([0x0a, 5]), Buffer.from('other'), Buffer.from([0x12, 1, 5])]);
  const expected = Buffer.concat([
    Buffer.from([0x0a, svid.length]), svid,
    Buffer.from([0x12, 1, 4]),
    Buffer.from([0x1a, entry.length]), entry,
  ]);
  expect(bytes.toString('hex')).toBe(expected.toString('hex'));
  expect(X509SVIDResponse.decode(bytes)).toMatchObject({ svids: [{ spiffeId: 'spiffe://td/a', hint: 'h' }], federatedBundles: { other: Buffer.from([5]) } });
});
