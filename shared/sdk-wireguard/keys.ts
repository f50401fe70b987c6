// WireGuard keys: X25519 from node:crypto. On the NSM wire (src_public_key / dst_public_key) a key is
// standard base64 of its raw 32 bytes; the wireguard-go UAPI wants lowercase hex of the same bytes.
import { generateKeyPairSync } from 'node:crypto';
import { invalidArgument } from '@nsm/sdk/core/errors';

export interface WgKeyPair {
  /** base64 of the raw 32-byte private scalar. */
  privateKey: string;
  /** base64 of the raw 32-byte public key. */
  publicKey: string;
}

export function generateKeyPair(): WgKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'jwk' }).d!;
  const x = publicKey.export({ format: 'jwk' }).x!;
  return { privateKey: Buffer.from(d, 'base64url').toString('base64'), publicKey: Buffer.from(x, 'base64url').toString('base64') };
}

/** Checks a base64 WireGuard key (32 bytes) and returns it as hex for the UAPI. */
export function keyToHex(b64: string): string {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== b64) throw invalidArgument(`invalid WireGuard key "${b64}" (want base64 of 32 bytes)`);
  return raw.toString('hex');
}
