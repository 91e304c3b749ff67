// protocol/grpc-tls.ts: for an IP target the channel sends a placeholder SNI (no DEP0123) but the server's
// certificate is still checked against the IP, as Node checks it; a DNS target is left to grpc-js as before.
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { grpcTls, IP_TARGET_SNI } from '../../protocol/grpc-tls.js';

const cert = (san: string) => ({ subject: { CN: '' }, subjectaltname: san }) as unknown as PeerCertificate;

describe('grpcTls', () => {
  it('an IPv4 target: placeholder SNI, certificate checked against the IP', () => {
    const t = grpcTls('127.0.0.1:8444');
    expect(t.options).toEqual({ 'grpc.ssl_target_name_override': IP_TARGET_SNI });
    expect(t.checkServerIdentity(IP_TARGET_SNI, cert('IP Address:127.0.0.1, DNS:localhost'))).toBeUndefined();
    expect(t.checkServerIdentity(IP_TARGET_SNI, cert('IP Address:10.0.0.1, DNS:localhost'))).toBeInstanceOf(Error);
    expect(t.checkServerIdentity(IP_TARGET_SNI, cert(`DNS:${IP_TARGET_SNI}`))).toBeInstanceOf(Error); // the placeholder proves nothing
  });

  it('an IPv6 target', () => {
    const t = grpcTls('[::1]:8444');
    expect(t.options).toEqual({ 'grpc.ssl_target_name_override': IP_TARGET_SNI });
    expect(t.checkServerIdentity(IP_TARGET_SNI, cert('IP Address:0:0:0:0:0:0:0:1'))).toBeUndefined();
    expect(t.checkServerIdentity(IP_TARGET_SNI, cert('IP Address:127.0.0.1'))).toBeInstanceOf(Error);
  });

  it('a DNS target, or a name the user chose, is checked by name as before', () => {
    const dns = grpcTls('gateway.internal:8444');
    expect(dns.options).toEqual({});
    expect(dns.checkServerIdentity('gateway.internal', cert('DNS:gateway.internal'))).toBeUndefined();
    expect(dns.checkServerIdentity('gateway.internal', cert('DNS:other.internal'))).toBeInstanceOf(Error);
    const named = grpcTls('127.0.0.1:8444', 'localhost');
    expect(named.options).toEqual({ 'grpc.ssl_target_name_override': 'localhost' });
  });
});
