import { PUSH_METHOD } from '../protocol/push.js';
import type { AgentConfig, Config } from '../config/schema.js';
import { formatDuration } from '../config/duration.js';
import { CANONICAL_METHODS, isStreamingMethod } from '../protocol/a2a-methods.js';
import { UNKNOWN_METHOD } from './a2a/methods.js';
import { refusal, RPC_CODE, type Refusal } from './errors.js';

/**
 * Call limits per (agent, method), resolved once per config load into a Map per agent, so a request reads
 * its limits with one Map.get (exchange.ts `timeouts`). Pure.
 *
 * Semantics (config/schema.ts says the same in its descriptions):
 *  - upstream: the callee must send its response headers within it; a response that is not an event stream
 *    must also be complete within it (checked as the body arrives; a body that stops is cut after this long
 *    of silence). Most specific setting wins: agents.<a>.timeouts.methods.<m>, agents.<a>.timeouts.upstream,
 *    timeouts.methods.<m>, timeouts.upstream.
 *  - streamIdle / streamMax: an event stream (SendStreamingMessage, SubscribeToTask) is never cut for being
 *    quiet or long unless one is configured (agent first, then global; an agent's 0 switches it off).
 */
export type LimitName = 'upstream' | 'streamIdle' | 'streamMax';

export interface CallTimeouts {
  /** response headers within this (ms); a non-stream body complete within it too */
  readonly upstreamMs: number;
  /** the config key that set upstreamMs (named in the 504) */
  readonly upstreamFrom: string;
  /** longest silence in an event stream (ms); 0 = none */
  readonly streamIdleMs: number;
  readonly streamIdleFrom: string;
  /** longest an event stream stays open (ms); 0 = none */
  readonly streamMaxMs: number;
  readonly streamMaxFrom: string;
  /** the method answers with an event stream: undici's body timeout is then the stream's idle limit */
  readonly stream: boolean;
}

/** canonical method (or 'unknown') -> its limits; every method is present */
export type AgentTimeouts = ReadonlyMap<string, CallTimeouts>;

// every method a forwarded exchange can carry: the A2A ones, a push (the callback route) and anything else
const METHODS: readonly string[] = [...CANONICAL_METHODS, PUSH_METHOD, UNKNOWN_METHOD];

function streamLimit(agentValue: number | undefined, globalValue: number | undefined, agentKey: string, globalKey: string): [number, string] {
  if (agentValue !== undefined) return [agentValue, agentKey];
  if (globalValue !== undefined) return [globalValue, globalKey];
  return [0, ''];
}

/** The limits of every method of one agent. */
export function compileAgentTimeouts(name: string, agent: AgentConfig, global: Config['timeouts']): AgentTimeouts {
  const own = agent.timeouts;
  const [streamIdleMs, streamIdleFrom] = streamLimit(own?.streamIdle, global.streamIdle, `agents.${name}.timeouts.streamIdle`, 'timeouts.streamIdle');
  const [streamMaxMs, streamMaxFrom] = streamLimit(own?.streamMax, global.streamMax, `agents.${name}.timeouts.streamMax`, 'timeouts.streamMax');
  const out = new Map<string, CallTimeouts>();
  for (const m of METHODS) {
    const ownMethod = own?.methods?.[m as keyof typeof own.methods];
    const globalMethod = global.methods?.[m as keyof typeof global.methods];
    let upstreamMs: number;
    let upstreamFrom: string;
    if (ownMethod !== undefined) [upstreamMs, upstreamFrom] = [ownMethod, `agents.${name}.timeouts.methods.${m}`];
    else if (own?.upstream !== undefined) [upstreamMs, upstreamFrom] = [own.upstream, `agents.${name}.timeouts.upstream`];
    else if (globalMethod !== undefined) [upstreamMs, upstreamFrom] = [globalMethod, `timeouts.methods.${m}`];
    else [upstreamMs, upstreamFrom] = [global.upstream, 'timeouts.upstream'];
    out.set(m, { upstreamMs, upstreamFrom, streamIdleMs, streamIdleFrom, streamMaxMs, streamMaxFrom, stream: isStreamingMethod(m) });
  }
  return out;
}

/** Which of a call's limits passed, from the engine's error. */
export function limitOf(t: CallTimeouts, limit: LimitName): { ms: number; setting: string } {
  switch (limit) {
    case 'streamIdle':
      return { ms: t.streamIdleMs, setting: t.streamIdleFrom };
    case 'streamMax':
      return { ms: t.streamMaxMs, setting: t.streamMaxFrom };
    default:
      return { ms: t.upstreamMs, setting: t.upstreamFrom };
  }
}

const SAYS: Record<LimitName, (callee: string, method: string, d: string) => string> = {
  upstream: (callee, method, d) => `agent "${callee}" did not answer ${method} within ${d}`,
  streamIdle: (callee, method, d) => `agent "${callee}" sent nothing on its ${method} event stream for ${d}`,
  streamMax: (callee, method, d) => `agent "${callee}"'s ${method} event stream reached its longest allowed time, ${d}`,
};

/** The 504 (or the stream's closing error event) for a limit that passed, naming the limit and its setting. */
export function timeoutRefusal(callee: string, method: string, t: CallTimeouts, limit: LimitName): Refusal {
  const { ms, setting } = limitOf(t, limit);
  return refusal(504, RPC_CODE.gatewayTimeout, 'timeout', `${SAYS[limit](callee, method, formatDuration(ms))} (the gateway's ${setting})`, {
    data: { limit, timeoutMs: ms, setting, method },
  });
}
