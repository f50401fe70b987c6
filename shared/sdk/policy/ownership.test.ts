import { Code } from '../core/errors';
import { checkOwnership, ownerOf, withOwner } from './ownership';

const A = 'spiffe://nsm.local/nse-a';
const B = 'spiffe://nsm.local/nse-b';

test.each([
  ['register a new name', 'register', undefined, A, true],
  ['refresh by the owner', 'register', { pathIds: [A] }, A, true],
  ['refresh by another identity', 'register', { pathIds: [A] }, B, false],
  ['unregister by another identity', 'unregister', { pathIds: [A] }, B, false],
  ['unregister by the owner', 'unregister', { pathIds: [A] }, A, true],
  ['in-process call (no identity)', 'unregister', { pathIds: [A] }, undefined, true],
  ['a record without owner', 'register', { pathIds: [] }, B, true],
] as const)('%s', (_n, op, stored, caller, allowed) => {
  const run = () => checkOwnership(op, 'icmp-responder', stored as never, caller);
  if (allowed) expect(run).not.toThrow();
  else expect(run).toThrow(expect.objectContaining({ code: Code.PERMISSION_DENIED, message: expect.stringContaining(`belongs to ${A}`) }));
});

test('the owner is kept in the record', () => {
  const nse = withOwner({ name: 'x', pathIds: ['spoofed', 'more'] }, A);
  expect(nse.pathIds).toEqual([A]);
  expect(ownerOf(nse)).toBe(A);
  expect(withOwner({ name: 'x', pathIds: ['k'] }, undefined).pathIds).toEqual(['k']);
});
