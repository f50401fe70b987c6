// @peculiar/x509 needs a Reflect metadata polyfill loaded before it (its dependency injection
// uses it) and a WebCrypto implementation; both are set up here once, and everything in the sdk
// imports the library through this file.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
export const subtle = webcrypto.subtle;
