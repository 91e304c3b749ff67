/**
 * TLS for gRPC clients of the control API when the target is an IP address (127.0.0.1:8444, the common case).
 * grpc-js sends the target host as the TLS server name (SNI), and an IP there is not allowed by RFC 6066:
 * Node warns (DEP0123) and will ignore it. So for an IP target the channel names a placeholder DNS name
 * instead, and the server's certificate is still checked against the IP itself (its IP SAN), exactly as
 * Node would check it.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type * as grpc from '@grpc/grpc-js';

/** Never resolved or checked against a certificate: only what is sent as SNI in place of an IP. */
export const IP_TARGET_SNI = 'tollgate-control.invalid';

function hostOf(server: string): string {
  const colon = server.lastIndexOf(':');
  const host = colon > 0 ? server.slice(0, colon) : server;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export interface GrpcTls {
  /** channel options to merge (the SNI override for an IP target) */
  options: grpc.ChannelOptions;
  /** `checkServerIdentity` to pass in createSsl's verify options: checks the certificate against the real host */
  checkServerIdentity: (name: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * For `server` (HOST:PORT). `nameOverride`: a TLS name chosen by the user (`tollgate ctl --server-name`),
 * which then is what the certificate must carry, as before.
 */
export function grpcTls(server: string, nameOverride?: string): GrpcTls {
  const host = hostOf(server);
  if (nameOverride !== undefined || isIP(host) === 0) {
    return { options: nameOverride !== undefined ? { 'grpc.ssl_target_name_override': nameOverride } : {}, checkServerIdentity };
  }
  return { options: { 'grpc.ssl_target_name_override': IP_TARGET_SNI }, checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert) };
}
