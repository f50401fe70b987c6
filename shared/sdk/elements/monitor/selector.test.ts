import { MonitorScopeSelector, PathSegment } from '@nsm/api';
import { conn, seg } from '../../testing/elements';
import { matchesSelector } from './selector';

const c = conn({
  networkService: 'svc',
  path: { index: 0, pathSegments: [seg('nsc', 'A', undefined, 'tA'), seg('nsmgr', 'B', undefined, 'tB'), seg('fwd', 'C'), seg('nse', 'D')] },
});
const sel = (pathSegments: Partial<PathSegment>[], networkServices: string[] = []): MonitorScopeSelector => ({
  pathSegments: pathSegments.map((p) => ({ ...seg('', ''), ...p })),
  networkServices,
});

describe('matchesSelector (api.md §7.2, v1.14.2)', () => {
  const cases: [string, MonitorScopeSelector, boolean][] = [
    ['empty selector', sel([]), true],
    ['one name', sel([{ name: 'fwd' }]), true],
    ['unknown name', sel([{ name: 'other' }]), false],
    ['name and matching id', sel([{ name: 'nsmgr', id: 'B' }]), true],
    ['name and other id', sel([{ name: 'nsmgr', id: 'X' }]), false],
    ['id only', sel([{ id: 'C' }]), true],
    ['id only, unknown', sel([{ id: 'Z' }]), false],
    ['token', sel([{ token: 'tB' }]), true],
    ['wrong token', sel([{ name: 'nsmgr', token: 'tA' }]), false],
    ['contiguous run', sel([{ name: 'nsmgr' }, { name: 'fwd' }]), true],
    ['wildcard inside a run', sel([{ name: 'nsc' }, {}, { name: 'fwd' }]), true],
    ['not contiguous', sel([{ name: 'nsc' }, { name: 'fwd' }]), false],
    ['wrong order', sel([{ name: 'fwd' }, { name: 'nsmgr' }]), false],
    ['longer than the path', sel([{}, {}, {}, {}, {}]), false],
    ['network service listed', sel([], ['x', 'svc']), true],
    ['network service not listed', sel([], ['x']), false],
    ['both must pass', sel([{ name: 'fwd' }], ['x']), false],
    ['both pass', sel([{ name: 'fwd' }], ['svc']), true],
  ];
  test.each(cases)('%s', (_n, s, want) => expect(matchesSelector(c, s)).toBe(want));

  test('a connection without a path matches only an empty segment list', () => {
    expect(matchesSelector(conn(), sel([]))).toBe(true);
    expect(matchesSelector(conn(), sel([{ name: 'a' }]))).toBe(false);
  });
});
