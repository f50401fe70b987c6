import { X509SVIDResponse } from '@nsm/api/spiffe';
import { LocalCa } from './ca';
import { concatDer, splitDer } from './der';
import { contextFromResponse, makeSvid } from './svid';

let ca: LocalCa;
let other: LocalCa;
beforeAll(async () => {
  ca = await LocalCa.create();
  other = await LocalCa.create({ trustDomain: 'example.org' });
});

const keyDer = (s: Awaited<ReturnType<LocalCa['issue']>>) => s.key.export({ format: 'der', type: 'pkcs8' });

function response(s: Awaited<ReturnType<LocalCa['issue']>>, patch: Partial<X509SVIDResponse['svids'][0]> = {}, fed: Record<string, Buffer> = {}) {
  return X509SVIDResponse.fromPartial({
    svids: [{ spiffeId: s.id, x509Svid: concatDer(s.chain), x509SvidKey: keyDer(s), bundle: concatDer(ca.bundle()), ...patch }],
    federatedBundles: fed,
  });
}

describe('splitDer', () => {
  test('splits concatenated certificates and refuses junk', () => {
    const two = Buffer.concat([ca.certificate.raw, other.certificate.raw]);
    expect(splitDer(two).map((b) => b.length)).toEqual([ca.certificate.raw.length, other.certificate.raw.length]);
    expect(splitDer(Buffer.alloc(0))).toEqual([]);
    expect(() => splitDer(Buffer.from([0x31, 0]))).toThrow(/SEQUENCE/);
    expect(() => splitDer(ca.certificate.raw.subarray(0, 50))).toThrow(/past the end/);
    expect(() => splitDer(Buffer.from([0x30, 0x85, 1, 1, 1, 1, 1]))).toThrow(/bad length/);
  });
});

describe('contextFromResponse', () => {
  test('a good response: SVID, own bundle, federated bundle', async () => {
    const s = await ca.issue('spiffe://nsm.local/nsc');
    const ctx = contextFromResponse(response(s, {}, { 'example.org': concatDer(other.bundle()) }));
    expect(ctx.svid.id).toBe('spiffe://nsm.local/nsc');
    expect([...ctx.bundles.keys()]).toEqual(['nsm.local', 'example.org']);
    expect(ctx.bundles.get('example.org')![0].fingerprint256).toBe(other.certificate.fingerprint256);
  });

  test.each([
    ['no SVID', () => X509SVIDResponse.fromPartial({}), /no SVID/],
    ['spiffe_id differs from the certificate', (s: never) => response(s, { spiffeId: 'spiffe://nsm.local/other' }), /differs/],
    ['key of another SVID', (s: never, t: never) => response(s, { x509SvidKey: keyDer(t) }), /does not match/],
    ['empty bundle', (s: never) => response(s, { bundle: Buffer.alloc(0) }), /bundle of nsm.local is empty/],
    ['garbage chain', (s: never) => response(s, { x509Svid: Buffer.from('nope') }), /SEQUENCE/],
    ['a CA as leaf', (s: never) => response(s, { x509Svid: ca.certificate.raw }), /is a CA/],
    ['bad federated trust domain', (s: never) => response(s, {}, { 'Bad TD': other.certificate.raw }), /not a trust domain/],
  ] as [string, (s: never, t: never) => X509SVIDResponse, RegExp][])('%s is refused', async (_n, make, why) => {
    const s = await ca.issue('spiffe://nsm.local/nsc');
    const t = await ca.issue('spiffe://nsm.local/t');
    expect(() => contextFromResponse(make(s as never, t as never))).toThrow(why);
  });

  test('a P-384 key is refused', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const s = await ca.issue('spiffe://nsm.local/nsc');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(() => makeSvid(concatDer(s.chain), p384)).toThrow(/not EC P-256/);
  });
});
