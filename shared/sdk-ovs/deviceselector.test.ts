import { parseDeviceSelector } from './deviceselector';

describe('device selector file', () => {
  test('maps each via value to its NIC', () => {
    const sel = parseDeviceSelector(`
interfaces:
  - name: eth1
    matches:
      - labelSelector:
          - via: gw1
          - via: gw2
  - name: eth2
    matches:
      - labelSelector:
          - via: gw3
`);
    expect([...sel.entries()]).toEqual([
      ['gw1', 'eth1'],
      ['gw2', 'eth1'],
      ['gw3', 'eth2'],
    ]);
  });

  test('an empty file selects nothing', () => {
    expect(parseDeviceSelector('').size).toBe(0);
  });

  test.each([
    ['interfaces: {}', /"interfaces" must be a list/],
    ['interfaces: [{name: "a-name-far-too-long", matches: []}]', /not an interface name/],
    ['interfaces: [{name: eth1}]', /matches must be a list/],
    ['interfaces: [{name: eth1, matches: [{labelSelector: [{app: x}]}]}]', /needs a "via" value/],
    ['interfaces: [{name: eth1, matches: [{labelSelector: [{via: g}]}]}, {name: eth2, matches: [{labelSelector: [{via: g}]}]}]', /via "g" is mapped to both eth1 and eth2/],
    ['interfaces: [', /not YAML/],
  ])('%s is refused clearly', (text, err) => {
    expect(() => parseDeviceSelector(text)).toThrow(err);
  });
});
