import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { Code } from '@nsm/sdk/core/errors';
import { generateKeyPair, keyToHex } from './keys';
import { setLines } from './uapi';

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
  test('device, then one peer with keepalive last', () => {
    expect(setLines({ privateKey: 'aa', listenPort: 51820, replacePeers: true, peers: [{ publicKey: 'bb', endpoint: '10.0.0.2:51821', allowedIps: ['172.16.1.100/32'], replaceAllowedIps: true, persistentKeepalive: 10 }] })).toEqual([
      'private_key=aa',
      'listen_port=51820',
      'replace_peers=true',
      'public_key=bb',
      'endpoint=10.0.0.2:51821',
      'replace_allowed_ips=true',
      'allowed_ip=172.16.1.100/32',
      'persistent_keepalive_interval=10',
    ]);
  });
  test('peer removal', () => {
    expect(setLines({ peers: [{ publicKey: 'bb', allowedIps: [], remove: true }] })).toEqual(['public_key=bb', 'remove=true']);
  });
});
