/**
 * A demo agent = an identity + an SDK agent served behind the gateway + SDK clients that call other agents
 * through the gateway with the agent's mTLS fetch (which carries the task's delegation context onward).
 */
import type { RequestContext, ExecutionEventBus, AgentExecutor } from '@a2a-js/sdk/server';
import { AgentEvent } from '@a2a-js/sdk/server';
import { createMtlsFetch, type AgentIdentity, type AgentServer } from '../../agent-bootstrap/index.js';
import type { Narrator } from '../narrator.js';
import { agentMessage, answerText, GatewayClients, sendRequest, serveA2a, textOf } from './a2a.js';
import { describeFailure, observe, observingFetch, type Failure, type Outcome } from './observe.js';

export interface AgentDeps {
  identity: AgentIdentity;
  /** https://127.0.0.1:<proxy port> */
  gatewayUrl: string;
  gatewayId: string;
  /** the upstream port the gateway's config names for this agent */
  port: number;
  narrator: Narrator;
  log: CallLog;
}

/** One onward call as its caller saw it: what the story checks its steps against. */
export interface CallRecord {
  from: string;
  to: string;
  ok: boolean;
  status: number | undefined;
  failure?: Failure;
}

export class CallLog {
  readonly records: CallRecord[] = [];
  add(r: CallRecord): void {
    this.records.push(r);
  }
  /** records added after a mark() */
  since(mark: number): CallRecord[] {
    return this.records.slice(mark);
  }
  mark(): number {
    return this.records.length;
  }
}

export interface DemoAgent {
  readonly name: string;
  readonly server: AgentServer;
  readonly clients: GatewayClients;
  close(): Promise<void>;
}

export interface CallOptions {
  /** don't narrate (bursts summarise themselves) */
  quiet?: boolean;
  /** call without reading the callee's card first (a caller the gateway hides it from) */
  blind?: boolean;
}

/**
 * SendMessage from `from` to `to` through the gateway: narrated ("▶ …", then "✓ …" or "✗ …"), recorded in
 * the call log, and returned as an Outcome with the answer's text. Never throws.
 */
export async function callAgent(
  deps: Pick<AgentDeps, 'narrator' | 'log'>,
  clients: GatewayClients,
  from: string,
  to: string,
  text: string,
  opts: CallOptions = {},
): Promise<Outcome<string>> {
  if (!opts.quiet) deps.narrator.call(from, to, 'SendMessage', text);
  const out = await observe(async () => {
    const client = await (opts.blind ? clients.blind(to) : clients.client(to));
    return answerText(await client.sendMessage(sendRequest(text)));
  });
  deps.log.add({ from, to, ok: out.ok, status: out.info.status, failure: out.ok ? undefined : out.failure });
  if (!opts.quiet) {
    if (out.ok) deps.narrator.ok(`${to} answered ${out.info.status ?? ''}${out.info.cost ? `, cost ${out.info.cost} USD` : ''}: '${firstLine(out.value)}'`);
    else deps.narrator.refused(`${out.failure.reason === 'error' ? 'failed' : 'refused by the gateway'}: ${describeFailure(out.failure)}`);
  }
  return out;
}

function firstLine(text: string): string {
  const l = text.split('\n')[0];
  return l.length > 60 ? `${l.slice(0, 59)}…` : l;
}

export interface AgentSpec {
  name: string;
  description: string;
  cost: number;
  streaming?: boolean;
  executor(clients: GatewayClients): AgentExecutor;
}

export async function startDemoAgent(deps: AgentDeps, spec: AgentSpec): Promise<DemoAgent> {
  const mtls = createMtlsFetch(deps.identity, { expectedServerId: deps.gatewayId });
  const clients = new GatewayClients(deps.gatewayUrl, observingFetch(mtls));
  const server = await serveA2a(deps.identity, {
    name: spec.name,
    description: spec.description,
    executor: spec.executor(clients),
    gatewayId: deps.gatewayId,
    port: deps.port,
    streaming: spec.streaming,
    cost: spec.cost,
  });
  return {
    name: spec.name,
    server,
    clients,
    async close() {
      await server.close(200);
      await mtls.close().catch(() => undefined);
      deps.identity.stop();
    },
  };
}

/** An executor that answers every message with one text message. */
export function replyExecutor(answer: (text: string, rc: RequestContext) => string | Promise<string>): AgentExecutor {
  return {
    async execute(rc: RequestContext, bus: ExecutionEventBus) {
      let text: string;
      try {
        text = await answer(textOf(rc.userMessage), rc);
      } catch (err) {
        text = `error: ${(err as Error).message}`;
      }
      bus.publish(AgentEvent.message(agentMessage(text, { contextId: rc.contextId })));
      bus.finished();
    },
    async cancelTask() {},
  };
}
