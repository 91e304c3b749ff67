/**
 * The one entry point to @peculiar/x509 for the whole project. v2 resolves its algorithm registry through
 * tsyringe, which needs the reflect-metadata polyfill loaded first; and it must use Node's WebCrypto.
 * Import x509 from here, never from '@peculiar/x509' directly.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
