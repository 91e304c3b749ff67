/**
 * tollgate.v1.Identity: decode, check the request's shape, call the CA core, encode. No decisions here:
 * the CA decides (tokens, revocation, what to sign); errors are mapped in control/errors.ts.
 */
import type * as grpc from '@grpc/grpc-js';
import type { CertificateAuthority, IssuedSvid } from '../ca/api.js';
import type { ValidatedSvid } from '../certs/svid.js';
import { ControlError } from './errors.js';
import { unary, type ErrorLog } from './unary.js';
import type {
  BootstrapRequest__Output,
  Empty__Output,
  IdentityHandlers,
  RenewRequest__Output,
  Revocations,
  RevocationsRequest__Output,
  SvidResponse,
  TrustBundle,
} from '../protocol/identity.js';
import { MAX_REVOCATIONS_PAGE } from '../ca/authority.js';

const MAX_CSR_BYTES = 16 * 1024;
const MAX_TOKEN_CHARS = 512;

export interface IdentityServiceDeps {
  authority: CertificateAuthority;
  /** validated client SVID of the call's connection; throws when missing or invalid */
  peerOf(call: grpc.ServerUnaryCall<unknown, unknown>): ValidatedSvid;
  log?: ErrorLog;
}

function checkCsr(csr: Buffer | undefined): Buffer {
  if (!csr || csr.length === 0) throw new ControlError('invalid_argument', 'csr is empty: send a PKCS#10 certificate request in DER form');
  if (csr.length > MAX_CSR_BYTES) throw new ControlError('invalid_argument', `csr is ${csr.length} bytes; the limit is ${MAX_CSR_BYTES}`);
  return csr;
}

export function toSvidResponse(s: IssuedSvid): SvidResponse {
  return {
    spiffeId: s.spiffeId,
    certChainPem: s.certChainPem,
    bundlePem: s.bundlePem,
    notBeforeUnixMs: s.notBefore,
    notAfterUnixMs: s.notAfter,
    serial: s.serial,
  };
}

/**
 * The log line of an issued certificate: whose, which serial, until when, how; a renewal names the serial of
 * the certificate it was asked with (the same identity: renewal never changes it).
 */
function issued(log: ErrorLog | undefined, s: IssuedSvid, via: 'bootstrap' | 'renew', renewedSerial?: string): void {
  log?.info?.(
    { spiffeId: s.spiffeId, serial: s.serial, notAfter: new Date(s.notAfter).toISOString(), via, ...(renewedSerial ? { renewedSerial } : {}) },
    `certificate issued to ${s.spiffeId} (${via})`,
  );
}

export function identityService(deps: IdentityServiceDeps): IdentityHandlers {
  const { authority } = deps;
  return {
    Bootstrap: unary<BootstrapRequest__Output, SvidResponse>('Bootstrap', deps.log, async (req) => {
      const token = typeof req.token === 'string' ? req.token.trim() : '';
      if (token.length === 0) throw new ControlError('invalid_argument', 'token is empty: pass the join token from `tollgate token create`');
      if (token.length > MAX_TOKEN_CHARS) throw new ControlError('invalid_argument', 'token is too long to be a Tollgate join token');
      const svid = await authority.bootstrap(token, checkCsr(req.csr));
      issued(deps.log, svid, 'bootstrap');
      return toSvidResponse(svid);
    }),
    Renew: unary<RenewRequest__Output, SvidResponse>('Renew', deps.log, async (req, call) => {
      // Authenticate before looking at the request: an anonymous caller learns nothing about the CSR check.
      const peer = deps.peerOf(call);
      const svid = await authority.renew(peer, checkCsr(req.csr));
      issued(deps.log, svid, 'renew', peer.serial);
      return toSvidResponse(svid);
    }),
    GetRevocations: unary<RevocationsRequest__Output, Revocations>('GetRevocations', deps.log, async (req, call) => {
      deps.peerOf(call); // any valid SVID of this trust domain; anonymous callers learn nothing
      // what arrived is coerced, then checked: a defensive step the types (longs: Number) say is not needed
      const after = Number((req.after as unknown) ?? 0);
      if (!Number.isSafeInteger(after) || after < 0)
        throw new ControlError('invalid_argument', `after must be a non-negative integer (the cursor of the last answer, or 0), got ${String(req.after)}`);
      const page = await authority.revocationsSince(after, MAX_REVOCATIONS_PAGE);
      return {
        revocations: page.events.map((e) => ({
          seq: e.seq,
          kind: e.kind,
          serial: e.kind === 'serial' ? e.serial : '',
          spiffeId: e.spiffeId,
          notAfterUnixMs: e.kind === 'serial' ? e.notAfter : 0,
        })),
        cursor: page.cursor,
        more: page.more,
      };
    }),
    GetTrustBundle: unary<Empty__Output, TrustBundle>('GetTrustBundle', deps.log, () => ({
      bundlePem: authority.bundlePem(),
      trustDomain: authority.trustDomain,
      fingerprint: authority.rootFingerprint(),
    })),
  };
}
