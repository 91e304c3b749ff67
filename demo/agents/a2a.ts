/**
 * What every demo agent shares: A2A messages and cards (@a2a-js/sdk 1.x shapes), serving an SDK agent
 * behind the gateway (mTLS, only the gateway may call), and SDK clients that reach other agents THROUGH the
 * gateway (https://<proxy>/a2a/<agent>) with the agent's mTLS fetch.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { AGENT_CARD_PATH, Role, type AgentCard, type Message, type Task } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { createAgentServer, type AgentIdentity, type AgentServer } from '../../agent-bootstrap/index.js';
import { COST_HEADER } from './observe.js';

export const textPart = (value: string) => ({ content: { $case: 'text' as const, value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

export function message(role: Role, value: string, ids: { taskId?: string; contextId?: string } = {}): Message {
  return {
    messageId: randomUUID(),
    role,
    parts: [textPart(value)],
    contextId: ids.contextId ?? '',
    taskId: ids.taskId ?? '',
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

export const userMessage = (value: string): Message => message(Role.ROLE_USER, value);
export const agentMessage = (value: string, ids?: { taskId?: string; contextId?: string }): Message => message(Role.ROLE_AGENT, value, ids);

/** The request body of SendMessage / SendStreamingMessage for one text. */
export const sendRequest = (value: string): SendRequest => ({ message: userMessage(value), tenant: '', configuration: undefined, metadata: undefined });
export type SendRequest = Parameters<Client['sendMessage']>[0];

type Parts = Message['parts'];

export function partsText(parts: Parts | undefined): string {
  return (parts ?? []).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
}

export function textOf(m: Message | undefined): string {
  return partsText(m?.parts);
}

/** The answer's text: a Message's parts, or a Task's artifacts / final status message. */
export function answerText(r: Message | Task): string {
  if ('parts' in r) return textOf(r);
  const fromArtifacts = r.artifacts.map((a) => partsText(a.parts)).join('');
  return fromArtifacts || textOf(r.status?.message);
}

export function agentCard(name: string, description: string, url: string, streaming = false): AgentCard {
  return {
    name,
    description,
    supportedInterfaces: [{ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    provider: undefined,
    version: '1.0.0',
    documentationUrl: '',
    capabilities: { streaming, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: name, name, description, tags: ['demo'], examples: [], inputModes: ['text/plain'], outputModes: ['text/plain'], securityRequirements: [] }],
    signatures: [],
    iconUrl: '',
  };
}

export interface ServeOptions {
  name: string;
  description: string;
  executor: AgentExecutor;
  /** SPIFFE ID allowed to call: the gateway's */
  gatewayId: string;
  port?: number;
  streaming?: boolean;
  /** reported per call in the `tollgate-cost` response header */
  cost?: number;
}

/**
 * An @a2a-js/sdk agent (card + JSON-RPC at its root) on createAgentServer: it presents its own SVID and
 * accepts only connections from the gateway's SPIFFE ID.
 */
export async function serveA2a(identity: AgentIdentity, opts: ServeOptions): Promise<AgentServer> {
  const app = express();
  const server = await createAgentServer(app, identity, { allowedCallers: [opts.gatewayId], port: opts.port ?? 0 });
  const card = agentCard(opts.name, opts.description, `${server.url}/`, opts.streaming);
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), opts.executor);
  if (opts.cost !== undefined) {
    const cost = String(opts.cost);
    app.use((req, res, next) => {
      if (req.method === 'POST') res.setHeader(COST_HEADER, cost);
      next();
    });
  }
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler }));
  app.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return server;
}

/** SDK clients for agents behind the gateway, one per callee (its card is fetched once, through the gateway). */
export class GatewayClients {
  private readonly clients = new Map<string, Promise<Client>>();
  private readonly factory: ClientFactory;

  constructor(
    private readonly gatewayUrl: string,
    fetchImpl: typeof fetch,
  ) {
    this.factory = new ClientFactory(
      ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
        transports: [new JsonRpcTransportFactory({ fetchImpl })],
        cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
      }),
    );
  }

  /** https://<gateway>/a2a/<agent> */
  urlOf(agent: string): string {
    return `${this.gatewayUrl}/a2a/${agent}`;
  }

  client(agent: string): Promise<Client> {
    let c = this.clients.get(agent);
    if (!c) {
      // trailing '/': the SDK resolves the card path relative to this URL
      c = this.factory.createFromUrl(`${this.urlOf(agent)}/`);
      // a failed card fetch is not cached: the next call tries again
      c.catch(() => this.clients.delete(agent));
      this.clients.set(agent, c);
    }
    return c;
  }

  /** A client for an agent whose card this caller cannot read (e.g. the gateway hides it): endpoint only. */
  blind(agent: string): Promise<Client> {
    return this.factory.createFromAgentCard(agentCard(agent, agent, this.urlOf(agent)));
  }
}
