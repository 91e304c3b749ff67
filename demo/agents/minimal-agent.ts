/**
 * Put a real A2A agent behind the gateway (the README's sample): an identity from a join token, an
 * @a2a-js/sdk agent served over mTLS to the gateway only, and onward calls through the gateway with the
 * agent's mTLS fetch (which carries the task's delegation context by itself). Card/message helpers: a2a.ts.
 */
import express from 'express';
import { AGENT_CARD_PATH } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { AgentIdentity, bootstrap, createAgentServer, createMtlsFetch } from '../../agent-bootstrap/index.js';
import { agentCard, agentMessage, answerText, sendRequest, textOf } from './a2a.js';

export interface MinimalAgentOptions {
  name: string;
  token: string;
  fingerprint: string;
  control: string;
  proxy: string;
  dir: string;
  port?: number;
  onward?: string;
}

export async function startMinimalAgent(o: MinimalAgentOptions) {
  // 1. identity: redeem the join token (the CA's root pinned by fingerprint), then keep it renewed
  await bootstrap({ server: o.control, token: o.token, fingerprint: o.fingerprint, outDir: o.dir });
  const identity = (await AgentIdentity.fromDir(o.dir, { server: o.control })).start();
  const gatewayId = `spiffe://${identity.trustDomain}/tollgate/gateway`;

  // 2. onward calls: SDK clients whose fetch presents our SVID and accepts only the gateway
  const fetchImpl = createMtlsFetch(identity, { expectedServerId: gatewayId });
  const options = { transports: [new JsonRpcTransportFactory({ fetchImpl })], cardResolver: new DefaultAgentCardResolver({ fetchImpl }) };
  const clients = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, options));

  // 3. the agent's work: answer, after asking the `onward` agent (through the gateway) if there is one
  const executor: AgentExecutor = {
    async execute(rc, bus) {
      let text = `${o.name} got '${textOf(rc.userMessage)}'`;
      if (o.onward) {
        const other = await clients.createFromUrl(`https://${o.proxy}/a2a/${o.onward}/`);
        text += `; ${o.onward} said: ${answerText(await other.sendMessage(sendRequest(text)))}`;
      }
      bus.publish(AgentEvent.message(agentMessage(text, { contextId: rc.contextId })));
      bus.finished();
    },
    async cancelTask() {},
  };

  // 4. serve it over mTLS with our SVID; only the gateway may connect
  const app = express();
  const server = await createAgentServer(app, identity, { allowedCallers: [gatewayId], port: o.port });
  const handler = new DefaultRequestHandler(agentCard(o.name, `${o.name} (minimal agent)`, `${server.url}/`), new InMemoryTaskStore(), executor);
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler }));
  app.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return {
    url: server.url,
    identity,
    close: async () => {
      await server.close();
      await fetchImpl.close();
      identity.stop();
    },
  };
}
