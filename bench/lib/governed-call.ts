import type { GovernedCall } from '../../governance/delegation/stage.js';

/**
 * A new root call from alice to echo, as the proxy hands it to the delegation stage (no inbound context, a
 * 200 answer): the stand-in of the graph-stream benchmarks (bench/graph-stream.ts and its fleet children).
 */
export function aliceCallsEcho(trustDomainUri: string): GovernedCall {
  return {
    callerId: `${trustDomainUri}/agent/alice`,
    callerAgent: undefined,
    callee: 'echo',
    calleeId: `${trustDomainUri}/agent/echo`,
    method: 'message/send',
    status: 200,
    error: undefined,
    header: () => undefined,
    responseHeader: () => undefined,
    setUpstreamHeader: () => undefined,
    governance: undefined,
  };
}
