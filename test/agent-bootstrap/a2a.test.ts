/**
 * createAgentServer + createMtlsFetch with a real @a2a-js/sdk agent and client: the fetch is the SDK's
 * `fetchImpl` for the card resolver and the JSON-RPC transport, and the delegation context received by
 * the agent reaches the onward call its executor makes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { AGENT_CARD_PATH, Role, type AgentCard, type Message } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { createAgentServer, createMtlsFetch, type AgentServer, type MtlsFetch } from '../../agent-bootstrap/index.js';
import { openTestCa, id, type TestCa } from '../control/harness.js';
import { gatewayIdentity, localIdentity } from './helpers.js';

const text = (value: string) => ({ content: { $case: 'text' as const, value }, metadata: undefined, filename: '', mediaType: 'text/plain' });
const message = (role: Role, value: string): Message => ({
  messageId: randomUUID(),
  role,
  parts: [text(value)],
  contextId: '',
  taskId: '',
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});
const textOf = (m: Message) => (m.parts[0]?.content?.$case === 'text' ? m.parts[0].content.value : '');

let t: TestCa;
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  t = await openTestCa();
});
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await t.close();
});

/** An SDK agent on createAgentServer: its card's URL is its own base URL. */
async function sdkAgent(name: string, executor: AgentExecutor, allowedCallers: string[], before?: express.RequestHandler): Promise<AgentServer> {
  const identity = await localIdentity(t.ca, id(`agent/${name}`));
  const app = express();
  if (before) app.use(before);
  let base = '';
  const cardOf = (): AgentCard =>
    ({
      name,
      description: name,
      supportedInterfaces: [{ url: `${base}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
      version: '1.0.0',
      documentationUrl: '',
      capabilities: { streaming: false, pushNotifications: false, extensions: [], extendedAgentCard: false },
      securitySchemes: {},
      securityRequirements: [],
      defaultInputModes: ['text'],
      defaultOutputModes: ['text'],
      skills: [],
      signatures: [],
      iconUrl: '',
    }) as unknown as AgentCard;
  const srv = await createAgentServer(app, identity, { allowedCallers });
  base = srv.url;
  const handler = new DefaultRequestHandler(cardOf(), new InMemoryTaskStore(), executor);
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler }));
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  closers.push(() => srv.close(100));
  return srv;
}

function sdkClientFactory(fetchImpl: MtlsFetch): ClientFactory {
  return new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
    }),
  );
}

describe('agent-bootstrap with @a2a-js/sdk', () => {
  it('an SDK client with createMtlsFetch talks to an SDK agent; the delegation context flows to the onward call', async () => {
    const seenByCallee: (string | undefined)[] = [];
    const callee = await sdkAgent(
      'researcher',
      {
        execute(rc, bus) {
          bus.publish(AgentEvent.message(message(Role.ROLE_AGENT, `found: ${textOf(rc.userMessage)}`)));
          bus.finished();
          return Promise.resolve();
        },
        async cancelTask() {},
      },
      [id('agent/writer')],
      // The callee records the header as it arrives.
      (req, _res, next) => {
        seenByCallee.push(req.headers['tollgate-delegation'] as string | undefined);
        next();
      },
    );

    const writer = await sdkAgent(
      'writer',
      {
        async execute(rc, bus) {
          // Onward call from inside the executor: no header handling in agent code.
          const client = await sdkClientFactory(writerFetch).createFromUrl(callee.url);
          const res = await client.sendMessage({
            message: message(Role.ROLE_USER, textOf(rc.userMessage)),
            tenant: '',
            configuration: undefined,
            metadata: undefined,
          });
          const reply = 'parts' in res ? textOf(res) : '?';
          bus.publish(AgentEvent.message(message(Role.ROLE_AGENT, `wrote about (${reply})`)));
          bus.finished();
        },
        async cancelTask() {},
      },
      [id('tollgate/gateway')],
    );
    // The writer calls onward with its own SVID (the callee allows agent/writer).
    const writerSelf = await localIdentity(t.ca, id('agent/writer'));
    // the writer's executor above runs only once a call arrives, by then this is set
    const writerFetch = createMtlsFetch(writerSelf, { expectedServerId: id('agent/researcher') });
    closers.push(() => writerFetch.close());

    const gateway = await gatewayIdentity(t.ca);
    const gatewayFetch = createMtlsFetch(gateway, { expectedServerId: id('agent/writer') });
    closers.push(() => gatewayFetch.close());
    // Like the gateway: every call carries XFCC and the signed delegation header.
    const withDelegation = ((input: Parameters<MtlsFetch>[0], init?: RequestInit) =>
      gatewayFetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string>),
          'x-forwarded-client-cert': `By=${id('tollgate/gateway')};URI=${id('user/alice')}`,
          'tollgate-delegation': 'ctx-from-gateway',
        },
      })) as MtlsFetch;

    const client = await sdkClientFactory(withDelegation).createFromUrl(writer.url);
    const res = await client.sendMessage({ message: message(Role.ROLE_USER, 'tollgate'), tenant: '', configuration: undefined, metadata: undefined });
    expect(textOf(res as Message)).toBe('wrote about (found: tollgate)');
    // card fetch + message/send, both inside the writer's handler
    expect(seenByCallee).toEqual(['ctx-from-gateway', 'ctx-from-gateway']);
  });
});
