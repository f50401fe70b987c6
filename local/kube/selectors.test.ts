import { KubeError } from '@nsm/sdk-k8s/api-status';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { podFromSpec } from './podspec';

describe('label selectors', () => {
  const labels = { app: 'nse', tier: 'gold', 'networkservicemesh.io/supplied-for': 'svc' };
  test.each([
    ['app=nse', true],
    ['app==nse', true],
    ['app=other', false],
    ['app!=other', true],
    ['app!=nse', false],
    ['missing!=x', true],
    ['tier in (gold, silver)', true],
    ['tier notin (gold)', false],
    ['app,tier', true],
    ['!app', false],
    ['!missing', true],
    ['app=nse,tier in (silver,gold),networkservicemesh.io/supplied-for=svc', true],
    ['', true],
  ])('%s → %s', (sel, want) => expect(matchLabels(parseLabelSelector(sel), labels)).toBe(want));

  test.each([['app=='], ['a b c'], ['-bad=1'], ['app=bad value!'], ['x in (a']])('refused: %s', (sel) => {
    let err: unknown;
    try {
      matchLabels(parseLabelSelector(sel), labels);
    } catch (e) {
      err = e;
    }
    // "app==" is a valid selector for the empty value; the others are 400s.
    if (sel === 'app==') expect(err).toBeUndefined();
    else expect((err as KubeError).status).toMatchObject({ code: 400, reason: 'BadRequest' });
  });
});

describe('field selectors', () => {
  const pod = podFromSpec({ name: 'p1', node: 'node2', command: 'nsc', env: {} });
  test.each([
    ['spec.nodeName=node2', true],
    ['spec.nodeName!=node2', false],
    ['metadata.name=p1,status.phase=Pending', true],
    ['metadata.namespace==other', false],
  ])('%s → %s', (sel, want) => expect(matchFields(parseFieldSelector(sel), pod)).toBe(want));

  test('an unknown field is a 400 naming it', () => {
    expect(() => parseFieldSelector('spec.hostname=x')).toThrow('field label not supported: spec.hostname');
  });
});
