import type { TLSSocket } from 'node:tls';
import type { Exchange } from '../exchange.js';
import { xfccValue } from '../headers.js';
import type { Grants } from '../policy.js';
import { callerLabel, type Runtime } from '../runtime.js';
import type { IdentityResolver, PeerIdentity } from '../tls/identity.js';

/**
 * What one connection (an HTTP/1.1 socket, an h2 session) knows of its caller, kept on it so that a request
 * pays for none of it: the SVID, validated once per trust generation, and the caller's grants, metric label
 * and agent name, worked out once per runtime generation (a policy or agent change). Both bindings use it
 * (pipeline.ts, grpc/calls.ts).
 */
export class CallerState {
  private trustGen = -1;
  private peer: PeerIdentity | undefined = undefined;
  private rtGen = -1;
  private grants: Grants | null = null;
  private callerName = 'unknown';
  private callerAgent: string | undefined = undefined;
  /** the x-forwarded-client-cert value for this caller (gateway id + caller id: fixed per trust generation) */
  private xfcc = '';

  /**
   * The connection's peer, validated again when the trust bundle changed since; `invalid` is told when the
   * certificate passed the TLS handshake but is not a valid SVID (counted as a handshake failure).
   */
  peerOf(socket: TLSSocket, resolver: IdentityResolver, gatewayId: string, invalid: () => void): PeerIdentity {
    if (this.peer === undefined || this.trustGen !== resolver.gen) {
      const peer = resolver.resolve(socket);
      this.peer = peer;
      this.xfcc = peer.ok ? xfccValue(gatewayId, peer.id) : '';
      this.trustGen = resolver.gen;
      this.rtGen = -1;
      if (!peer.ok) invalid();
    }
    return this.peer;
  }

  /** The identified caller onto the exchange: its id, grants, metric label, agent name and XFCC. */
  admit(ex: Exchange, callerId: string, rt: Runtime): void {
    if (this.rtGen !== rt.gen) {
      this.grants = rt.policy.grantsFor(callerId);
      this.callerName = callerLabel(rt, callerId, this.grants);
      this.callerAgent = rt.agentNameById.get(callerId);
      this.rtGen = rt.gen;
    }
    ex.callerId = callerId;
    ex.grants = this.grants;
    ex.xfcc = this.xfcc;
    ex.callerName = this.callerName;
    ex.callerAgent = this.callerAgent;
  }
}
