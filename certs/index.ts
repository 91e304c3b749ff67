export * from './errors.js';
export * from './spiffe-id.js';
export * from './svid.js';
export * from './pem.js';
export * from './rotation.js';
