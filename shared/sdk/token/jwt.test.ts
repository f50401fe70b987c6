import { createHmac, sign, webcrypto } from 'node:crypto';
import { LocalCa } from '../spiffe/ca';
import type { X509Svid } from '../spiffe/svid';
import { jwtTokenGenerator } from './index';
import { MAX_TOKEN_LENGTH, parseJwt, signEs256, verifyEs256 } from './jwt';

let ca: LocalCa;
let me: X509Svid;
let mallory: X509Svid;
beforeAll(async () => {
  ca = await LocalCa.create();
  me = await ca.issue('spiffe://nsm.local/nsc');
  mallory = await ca.issue('spiffe://nsm.local/mallory');
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

test('ES256: header {"alg":"ES256","typ":"JWT"}, raw r||s signature that WebCrypto verifies too', async () => {
  const token = signEs256({ sub: me.id, aud: ['spiffe://nsm.local/nsmgr'], exp: 2_000_000_000 }, me.key);
  const [h, c, s] = token.split('.');
  expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'ES256', typ: 'JWT' });
  expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({ sub: me.id, aud: ['spiffe://nsm.local/nsmgr'], exp: 2_000_000_000 });
  expect(Buffer.from(s, 'base64url')).toHaveLength(64);
  expect(verifyEs256(token, me.chain[0])).toBe(true);
  // An independent verifier: WebCrypto's ECDSA takes r||s natively.
  const pub = await webcrypto.subtle.importKey('spki', me.chain[0].publicKey.export({ format: 'der', type: 'spki' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  expect(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, Buffer.from(s, 'base64url'), Buffer.from(`${h}.${c}`))).toBe(true);
});

describe('verifyEs256 refuses', () => {
  const good = () => signEs256({ sub: me.id, exp: 2_000_000_000 }, me.key);
  test.each([
    ['a token signed by another key', () => signEs256({ sub: me.id, exp: 2_000_000_000 }, mallory.key)],
    ['alg none (the old unsigned tokens)', () => jwtTokenGenerator({ subject: me.id, lifetimeMs: 60_000 })().token],
    ['alg none with the original signature kept', () => `${b64({ alg: 'none', typ: 'JWT' })}.${good().split('.')[1]}.${good().split('.')[2]}`],
    ['HS256 keyed with the public key (algorithm confusion)', () => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: me.id })}`;
      const pem = me.chain[0].publicKey.export({ format: 'pem', type: 'spki' });
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    }],
    ['ES384 in the header', () => `${b64({ alg: 'ES384', typ: 'JWT' })}.${good().split('.').slice(1).join('.')}`],
    ['a changed claim', () => {
      const [h, , s] = good().split('.');
      return `${h}.${b64({ sub: 'spiffe://nsm.local/admin', exp: 2_000_000_000 })}.${s}`;
    }],
    ['a DER signature instead of r||s', () => {
      const [h, c, s] = good().split('.');
      return `${h}.${c}.${Buffer.concat([Buffer.from([0x30, 0x44]), Buffer.from(s, 'base64url')]).toString('base64url')}`;
    }],
    ['an empty signature', () => good().split('.').slice(0, 2).join('.') + '.'],
    ['a typ that is not JWT', () => {
      const input = `${b64({ alg: 'ES256', typ: 'JOSE+JSON' })}.${b64({ sub: me.id })}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: me.key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    }],
    ['four parts', () => `${good()}.x`],
    ['an oversize token', () => `${b64({ alg: 'ES256' })}.${'A'.repeat(MAX_TOKEN_LENGTH)}.x`],
    ['claims that are not an object', () => `${b64({ alg: 'ES256' })}.${b64([1, 2])}.${good().split('.')[2]}`],
  ] as [string, () => string][])('%s', (_n, make) => {
    expect(verifyEs256(make(), me.chain[0])).toBe(false);
  });

  test('another identity\'s certificate, or the CA\'s, does not verify it', () => {
    expect(verifyEs256(good(), mallory.chain[0])).toBe(false);
    expect(verifyEs256(good(), ca.certificate)).toBe(false);
  });
});

test('a verdict is remembered per key and token: the same answer again; another key, or a token changed by one character, is checked afresh', () => {
  const token = signEs256({ sub: me.id, exp: 2_000_000_000 }, me.key);
  const tampered = token.slice(0, -2) + (token.endsWith('A') ? 'B' : 'A') + token.slice(-1);
  for (let i = 0; i < 3; i++) {
    expect(verifyEs256(token, me.chain[0])).toBe(true);
    expect(verifyEs256(token, mallory.chain[0])).toBe(false);
    expect(verifyEs256(tampered, me.chain[0])).toBe(false);
    expect(verifyEs256(token, me.chain[0].publicKey)).toBe(true);
  }
});

test('parseJwt is strict about claim types', () => {
  const sig = 'AA';
  expect(parseJwt(`${b64({ alg: 'ES256' })}.${b64({ sub: 'a', aud: 'b', exp: 5 })}.${sig}`)?.claims).toEqual({ sub: 'a', aud: 'b', exp: 5 });
  expect(parseJwt(`${b64({ alg: 'ES256' })}.${b64({ exp: '5' })}.${sig}`)).toBeUndefined();
  expect(parseJwt(`${b64({ alg: 'ES256' })}.${b64({ sub: 7 })}.${sig}`)).toBeUndefined();
  expect(parseJwt(`${b64({ alg: 'ES256' })}.${b64({ aud: [1] })}.${sig}`)).toBeUndefined();
  expect(parseJwt(`${b64({ alg: 'ES256' })}.${b64({})}.a+b`)).toBeUndefined();
  expect(() => signEs256({}, mallory.chain[0].publicKey)).toThrow(/private key/);
});
