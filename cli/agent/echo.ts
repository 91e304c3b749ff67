/**
 * The agent `tollgate agent run` serves: a small @a2a-js/sdk agent that answers every message with
 * "<name>: <text>", over mTLS with its own SVID, accepting only the gateway. JSON-RPC for A2A 1.0 clients
 * (the SDK's) and 0.3 ones (`message/send`, what a hand-written curl sends).
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { AGENT_CARD_PATH, Role, type AgentCard, type Message } from '@a2a-js/sdk';
import { duplicateInterfacesForLegacy } from '@a2a-js/sdk/compat/v0_3';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { createAgentServer, type AgentIdentity, type AgentServer } from '../../agent-bootstrap/index.js';

export interface EchoAgentOptions {
  name: string;
  identity: AgentIdentity;
  host: string;
  port: number;
}

function textOf(m: Message | undefined): string {
  return (m?.parts ?? []).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
}

function card(name: string, url: string): AgentCard {
  return {
    name,
    description: `${name}: answers every message with its text (served by \`tollgate agent run\`)`,
    supportedInterfaces: duplicateInterfacesForLegacy([{ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }], ['JSONRPC']),
    provider: undefined,
    version: '1.0.0',
    documentationUrl: '',
    capabilities: { streaming: false, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [
      {
        id: 'echo',
        name: 'echo',
        description: 'echoes the text it is sent',
        tags: ['example'],
        examples: ['hello'],
        inputModes: ['text/plain'],
        outputModes: ['text/plain'],
        securityRequirements: [],
      },
    ],
    signatures: [],
    iconUrl: '',
  };
}

export async function startEchoAgent(o: EchoAgentOptions): Promise<AgentServer> {
  const executor: AgentExecutor = {
    execute(rc, bus) {
      const reply: Message = {
        messageId: randomUUID(),
        role: Role.ROLE_AGENT,
        parts: [{ content: { $case: 'text', value: `${o.name}: ${textOf(rc.userMessage)}` }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
        contextId: rc.contextId,
        taskId: '',
        metadata: undefined,
        extensions: [],
        referenceTaskIds: [],
      };
      bus.publish(AgentEvent.message(reply));
      bus.finished();
      return Promise.resolve();
    },
    cancelTask: () => Promise.resolve(),
  };
  const gatewayId = `spiffe://${o.identity.trustDomain}/tollgate/gateway`;
  const app = express();
  const server = await createAgentServer(app, o.identity, { allowedCallers: [gatewayId], host: o.host, port: o.port });
  const handler = new DefaultRequestHandler(card(o.name, `${server.url}/`), new InMemoryTaskStore(), executor);
  const legacyCompat = { enabled: true };
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler, legacyCompat }));
  app.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat }));
  return server;
}
