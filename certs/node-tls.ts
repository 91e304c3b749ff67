/**
 * node:tls, loaded with require(). An ESM `import … from 'node:tls'` makes Node build that module's ESM
 * facade, which reads every export once, the lazy `tls.rootCertificates` included: Node then materializes
 * its ~140 bundled public root certificates as strings, held for the life of the process (~0.2-0.3 MB of an
 * idle gateway, docs/performance.md Session 7). Tollgate never trusts the public roots (every TLS context
 * names its own `ca`), so nothing should read them. Type-only imports build no facade and stay as they are;
 * test/structure/serve-idle.test.ts fails if an idle gateway has imported node:tls as an ES module (code
 * that only runs with a feature configured, e.g. Redis over TLS, may still import it).
 */
import { createRequire } from 'node:module';
import type * as Tls from 'node:tls';

export const tls = createRequire(import.meta.url)('node:tls') as typeof Tls;
