import { ipContextCommands } from './ipcontext';

describe('ipContextCommands', () => {
  it('builds one batch: mtu, up, addresses, routes, neighbours', () => {
    expect(
      ipContextCommands('nsm-1', {
        mtu: 1450,
        addrs: ['172.16.1.101/32', 'fd00::1/127'],
        routes: [{ prefix: '172.16.1.100/32' }, { prefix: '10.0.0.5/8', via: '172.16.1.100' }, { prefix: 'fd01::/64', via: '' }],
        neighbors: [{ ip: '172.16.1.100', mac: 'AA:BB:CC:DD:EE:FF' }, { ip: 'fd00::', mac: '02:00:00:00:00:01', state: 'permanent' }],
      }),
    ).toEqual([
      'link set dev nsm-1 mtu 1450',
      'link set dev nsm-1 up',
      'addr replace 172.16.1.101/32 dev nsm-1',
      'addr replace fd00::1/127 dev nsm-1 nodad',
      'route replace 172.16.1.100/32 dev nsm-1',
      'route replace 10.0.0.0/8 via 172.16.1.100 dev nsm-1 onlink',
      'route replace fd01:0:0:0:0:0:0:0/64 dev nsm-1',
      'neigh replace 172.16.1.100 lladdr aa:bb:cc:dd:ee:ff dev nsm-1 nud reachable',
      'neigh replace fd00:: lladdr 02:00:00:00:00:01 dev nsm-1 nud permanent',
    ]);
  });

  it('leaves the link state alone when up is false and rejects bad input', () => {
    expect(ipContextCommands('eth1', { up: false })).toEqual([]);
    expect(() => ipContextCommands('eth1', { routes: [{ prefix: '10.0.0.0/8', via: 'fd00::1' }] })).toThrow(/families/);
    expect(() => ipContextCommands('eth1', { neighbors: [{ ip: '10.0.0.1', mac: 'zz' }] })).toThrow(/MAC/);
    expect(() => ipContextCommands('bad name', {})).toThrow(/invalid interface name/);
  });
});
