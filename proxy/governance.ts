import type { Refusal } from '../protocol/refusal.js';
import type { Exchange } from './exchange.js';

/**
 * The governance slot: where the delegation core (governance/delegation, plugged in by gateway/) joins
 * the request path. One small interface; the pipeline calls it at these points (pipeline.ts):
 *
 *   beforeForward  after authorize and limits, last before the callee: return a Refusal to answer instead
 *                  (the callee never sees the call), or undefined to forward; may set upstream headers
 *                  (ex.setUpstreamHeader). A throw or a rejected promise refuses the call (503): a call
 *                  is never forwarded unchecked.
 *   onResponse     the upstream's response headers arrived (ex.status, ex.responseHeader(name)); before
 *                  they reach the caller
 *   onRefused      a call that reached authorize was refused, by any stage
 *   onComplete     a forwarded call ended (ex.status, ex.error, ex.durationUs)
 *
 * Observers (onResponse, onRefused, onComplete) cannot change the outcome: what they throw is dropped.
 */
export interface Governance {
  beforeForward(ex: Exchange): Refusal | undefined | Promise<Refusal | undefined>;
  onResponse(ex: Exchange): void;
  onRefused(ex: Exchange, refusal: Refusal): void;
  onComplete(ex: Exchange): void;
}
