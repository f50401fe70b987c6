import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { Code } from '@nsm/sdk/core/errors';
import { generateKeyPair, keyToHex } from './keys';
import { setLines, socketPath, UapiSet } from './uapi';

const priv = (b64: string) => createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(b64, 'base64').toString('base64url'), x: '' }, format: 'jwk' });

describe('WireGuard keys', () => {
  test('base64 of 32 raw bytes; the public key belongs to the private key (X25519 agreement)', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    for (const k of [a.privateKey, a.publicKey]) expect(Buffer.from(k, 'base64')).toHaveLength(32);
    const pubObj = (b64: string) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(b64, 'base64').toString('base64url') }, format: 'jwk' });
    const ab = diffieHellman({ privateKey: priv(a.privateKey), publicKey: pubObj(b.publicKey) });
    const ba = diffieHellman({ privateKey: priv(b.privateKey), publicKey: pubObj(a.publicKey) });
    expect(ab.equals(ba)).toBe(true);
  });
  test('keyToHex checks the length', () => {
    expect(keyToHex(Buffer.alloc(32, 1).toString('base64'))).toBe('01'.repeat(32));
    expect(() => keyToHex('abcd')).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/invalid WireGuard key/) }));
  });
});

describe('UAPI set lines', () => {
  const aa = 'aa'.repeat(32);
  const bb = 'bb'.repeat(32);
  test('device, then one peer with keepalive last', () => {
    expect(setLines({ privateKey: aa, listenPort: 51820, replacePeers: true, peers: [{ publicKey: bb, endpoint: '10.0.0.2:51821', allowedIps: ['172.16.1.100/32'], replaceAllowedIps: true, persistentKeepalive: 10 }] })).toEqual([
      `private_key=${aa}`,
      'listen_port=51820',
      'replace_peers=true',
      `public_key=${bb}`,
      'endpoint=10.0.0.2:51821',
      'replace_allowed_ips=true',
      'allowed_ip=172.16.1.100/32',
      'persistent_keepalive_interval=10',
    ]);
  });
  test('peer removal', () => {
    expect(setLines({ peers: [{ publicKey: bb, allowedIps: [], remove: true }] })).toEqual([`public_key=${bb}`, 'remove=true']);
  });
  test('an IPv6 endpoint', () => {
    expect(setLines({ peers: [{ publicKey: bb, endpoint: '[fd00::2]:51820', allowedIps: ['fd00::1/128'] }] })).toContain('endpoint=[fd00::2]:51820');
  });
  // One line per case: a value that would add a line (or is not what the key takes) is refused.
  test.each([
    ['a private key with a second line', { privateKey: `${aa}\nlisten_port=1` }],
    ['a private key in base64', { privateKey: Buffer.alloc(32).toString('base64') }],
    ['a listen port of 70000', { listenPort: 70000 }],
    ['a fractional listen port', { listenPort: 1.5 }],
    ['a peer key with a newline', { peers: [{ publicKey: `${bb}\nallowed_ip=0.0.0.0/0`, allowedIps: [] }] }],
    ['an endpoint with a newline', { peers: [{ publicKey: bb, endpoint: '192.0.2.1:51820\nprivate_key=00', allowedIps: [] }] }],
    ['an endpoint that is a name', { peers: [{ publicKey: bb, endpoint: 'peer.example:51820', allowedIps: [] }] }],
    ['an endpoint without port', { peers: [{ publicKey: bb, endpoint: '192.0.2.1', allowedIps: [] }] }],
    ['an unbracketed IPv6 endpoint', { peers: [{ publicKey: bb, endpoint: 'fd00::2:51820', allowedIps: [] }] }],
    ['an allowed IP with a newline', { peers: [{ publicKey: bb, allowedIps: ['10.0.0.1/32\nallowed_ip=0.0.0.0/0'] }] }],
    ['an allowed IP without length', { peers: [{ publicKey: bb, allowedIps: ['10.0.0.1'] }] }],
    ['a keepalive of -1', { peers: [{ publicKey: bb, allowedIps: [], persistentKeepalive: -1 }] }],
  ] as [string, UapiSet][])('%s: INVALID_ARGUMENT, nothing written', (_n, set) => {
    expect(() => setLines(set)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/^wireguard UAPI: .* is not a valid /) }));
  });
  test('an interface name that would leave the socket folder is refused', () => {
    expect(() => socketPath('../../etc/x')).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(socketPath('nsmwgs-1234567')).toBe('/var/run/wireguard/nsmwgs-1234567.sock');
  });
});
