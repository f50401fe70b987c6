import { Code } from '../core/errors';
import { isSpiffeId, makeSpiffeId, parseSpiffeId, spiffeIdError } from './id';

test.each([
  ['spiffe://nsm.local', { trustDomain: 'nsm.local', path: '' }],
  ['spiffe://nsm.local/nsmgr', { trustDomain: 'nsm.local', path: '/nsmgr' }],
  ['spiffe://example.org/ns/nsm-system/sa/default', { trustDomain: 'example.org', path: '/ns/nsm-system/sa/default' }],
  ['spiffe://a_b-c.d/A.b_c-9', { trustDomain: 'a_b-c.d', path: '/A.b_c-9' }],
])('%s parses', (id, want) => {
  expect(parseSpiffeId(id)).toEqual(want);
  expect(isSpiffeId(id)).toBe(true);
});

test.each([
  ['', /empty/],
  ['http://nsm.local/x', /scheme/],
  ['SPIFFE://nsm.local/x', /scheme/],
  ['spiffe://', /trust domain is empty/],
  ['spiffe:///x', /trust domain is empty/],
  ['spiffe://NSM.local/x', /trust domain/],
  ['spiffe://nsm.local:8080/x', /trust domain/],
  ['spiffe://user@nsm.local/x', /trust domain/],
  ['spiffe://nsm.local/', /empty segment/],
  ['spiffe://nsm.local//x', /empty segment/],
  ['spiffe://nsm.local/x/', /empty segment/],
  ['spiffe://nsm.local/./x', /"\." or "\.\."/],
  ['spiffe://nsm.local/x/..', /"\." or "\.\."/],
  ['spiffe://nsm.local/x?y=1', /characters/],
  ['spiffe://nsm.local/x#f', /characters/],
  ['spiffe://nsm.local/x y', /characters/],
  ['spiffe://nsm.local/x\ny', /characters/],
  ['spiffe://nsm.local/%41', /characters/],
  [`spiffe://nsm.local/${'a'.repeat(2100)}`, /longer than 2048/],
])('%j is refused (%s)', (id, why) => {
  expect(spiffeIdError(id)).toMatch(why);
  expect(() => parseSpiffeId(id)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
});

test('makeSpiffeId joins and checks', () => {
  expect(makeSpiffeId('nsm.local', '/nsmgr/node1')).toBe('spiffe://nsm.local/nsmgr/node1');
  expect(makeSpiffeId('nsm.local', 'nse')).toBe('spiffe://nsm.local/nse');
  expect(() => makeSpiffeId('nsm.local', '/bad name')).toThrow(/not a SPIFFE ID/);
});
