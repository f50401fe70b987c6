import { Code } from '../core/errors';
import { checkOwnership, ownerOf, registrationPath } from './ownership';

const A = 'spiffe://nsm.local/nse-a';
const B = 'spiffe://nsm.local/nse-b';
const MGR = 'spiffe://nsm.local/nsmgr-1';
const ROGUE = 'spiffe://nsm.local/rogue';

test.each([
  ['register a new name', 'register', undefined, [A], true],
  ['refresh by the owner', 'register', { pathIds: [A] }, [A], true],
  ['refresh by the owner through its nsmgr', 'register', { pathIds: [A, MGR] }, [A, MGR], true],
  ['refresh by another identity', 'register', { pathIds: [A] }, [B], false],
  ['unregister by another identity', 'unregister', { pathIds: [A] }, [B], false],
  ['unregister by the owner', 'unregister', { pathIds: [A] }, [A], true],
  ['the owner claimed through another relay', 'unregister', { pathIds: [A, MGR] }, [A, ROGUE], false],
  ['the owner claimed without its relay', 'register', { pathIds: [A, MGR] }, [A], false],
  ['in-process call (no identity)', 'unregister', { pathIds: [A] }, undefined, true],
  ['a record without owner', 'register', { pathIds: [] }, [B], true],
] as const)('%s', (_n, op, stored, path, allowed) => {
  const run = () => checkOwnership(op, 'icmp-responder', stored as never, path as never);
  if (allowed) expect(run).not.toThrow();
  else expect(run).toThrow(expect.objectContaining({ code: Code.PERMISSION_DENIED, message: expect.stringContaining(`belongs to ${A}`) }));
});

describe('registrationPath', () => {
  test('a caller that claims nothing registers for itself; a relay ends the path it passes on', () => {
    expect(registrationPath([], A)).toEqual([A]);
    expect(registrationPath(undefined, A)).toEqual([A]);
    expect(registrationPath([A], A)).toEqual([A]);
    expect(registrationPath([A, MGR], MGR)).toEqual([A, MGR]);
    expect(ownerOf({ pathIds: [A, MGR] })).toBe(A);
  });

  test.each([
    ['a path that does not end with the caller', [A], ROGUE, Code.PERMISSION_DENIED, /ends with .*nse-a, but the caller is .*rogue/],
    ['an entry that is not a SPIFFE ID', ['x; rm -rf /', ROGUE], ROGUE, Code.INVALID_ARGUMENT, /path_ids\[0\] is not a SPIFFE ID/],
    ['too many entries', Array(9).fill(ROGUE), ROGUE, Code.INVALID_ARGUMENT, /at most 8/],
  ] as const)('%s is refused', (_n, ids, caller, code, msg) => {
    expect(() => registrationPath(ids as never, caller)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(msg) }));
  });
});
