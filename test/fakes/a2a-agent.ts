import https from 'node:https';
import type { Socket } from 'node:net';
import express from 'express';
import { randomUUID } from 'node:crypto';
import { AGENT_CARD_PATH, Role, TaskState, type AgentCard, type AgentCardSignatureGenerator, type Message } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, restHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { duplicateInterfacesForLegacy } from '@a2a-js/sdk/compat/v0_3';
import * as grpc from '@grpc/grpc-js';
import { A2AService, grpcService } from '@a2a-js/sdk/server/grpc';

/**
 * A real @a2a-js/sdk agent (express 5 + DefaultRequestHandler + InMemoryTaskStore) over HTTPS with an SVID,
 * requiring client certificates (the gateway's). Serves its card at /.well-known/agent-card.json, JSON-RPC
 * at /a2a/jsonrpc and REST at /a2a/rest, each for v1.0 and (legacyCompat) v0.3 clients.
 */
export interface A2aAgentOptions {
  name: string;
  keyPem: string;
  certChainPem: string;
  bundlePem: string;
  executor?: AgentExecutor;
  /** require a client certificate (default true) */
  requireClientCert?: boolean;
  /** told the canonical A2A method of every call the SDK's handlers dispatch, before it runs */
  onMethod?: (method: string) => void;
  /**
   * also serve the SDK's gRPC binding (lf.a2a.v1.A2AService, mTLS with the same SVID) and declare it in the
   * card as a v1.0 GRPC interface with this tenant ('' for none)
   */
  grpc?: { tenant: string; onRequest?: (method: string, request: { tenant?: string }) => void };
  /** signs the card (and the extended card) on every request, as the SDK's handler does (`base`: the agent's origin) */
  signCard?: (base: string) => AgentCardSignatureGenerator;
  /** an authenticated extended card: the public card with these extra skills (sets capabilities.extendedAgentCard) */
  extendedSkills?: AgentCard['skills'];
  /** a key set served at /.well-known/jwks.json */
  jwks?: object;
}

/** The request handler's methods by the canonical A2A method each one serves. */
const HANDLER_METHODS: Record<string, string> = {
  sendMessage: 'SendMessage',
  sendMessageStream: 'SendStreamingMessage',
  getTask: 'GetTask',
  listTasks: 'ListTasks',
  cancelTask: 'CancelTask',
  resubscribe: 'SubscribeToTask',
  createTaskPushNotificationConfig: 'CreateTaskPushNotificationConfig',
  getTaskPushNotificationConfig: 'GetTaskPushNotificationConfig',
  listTaskPushNotificationConfigs: 'ListTaskPushNotificationConfigs',
  deleteTaskPushNotificationConfig: 'DeleteTaskPushNotificationConfig',
  getAuthenticatedExtendedAgentCard: 'GetExtendedAgentCard',
};

/** The SDK's own request handler, telling `onMethod` which A2A method each dispatched call is. */
function recording<T extends object>(handler: T, onMethod: (method: string) => void): T {
  return new Proxy(handler, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      const m = typeof prop === 'string' ? HANDLER_METHODS[prop] : undefined;
      if (m === undefined || typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        onMethod(m);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export interface RunningAgent {
  url: string;
  port: number;
  /** https://127.0.0.1:<port> of the gRPC server, when started with `grpc` */
  grpcUrl?: string;
  card: AgentCard;
  close(): Promise<void>;
}

export function textPart(text: string) {
  return { content: { $case: 'text' as const, value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

export function agentMessage(text: string, ctx?: { taskId?: string; contextId?: string }): Message {
  return {
    messageId: randomUUID(),
    role: Role.ROLE_AGENT,
    parts: [textPart(text)],
    contextId: ctx?.contextId ?? '',
    taskId: ctx?.taskId ?? '',
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

function textOf(m: Message): string {
  const p = m.parts.find((x) => x.content?.$case === 'text');
  return p?.content?.$case === 'text' ? p.content.value : '';
}

/** Replies "echo: <text>" as a Message. */
export function echoExecutor(): AgentExecutor {
  return {
    execute(rc: RequestContext, bus: ExecutionEventBus) {
      bus.publish(AgentEvent.message(agentMessage(`echo: ${textOf(rc.userMessage)}`, { contextId: rc.contextId })));
      bus.finished();
      return Promise.resolve();
    },
    async cancelTask() {},
  };
}

/** A task that goes submitted -> working -> (artifact) -> completed, `delayMs` between steps: a stream to watch. */
export function slowTaskExecutor(delayMs: number, steps = 3): AgentExecutor {
  return {
    async execute(rc: RequestContext, bus: ExecutionEventBus) {
      const { taskId, contextId } = rc;
      bus.publish(
        AgentEvent.task({
          id: taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_SUBMITTED, timestamp: new Date().toISOString(), message: undefined },
          artifacts: [],
          history: [rc.userMessage],
          metadata: undefined,
        }),
      );
      for (let i = 0; i < steps; i++) {
        await new Promise((r) => setTimeout(r, delayMs));
        bus.publish(
          AgentEvent.statusUpdate({
            taskId,
            contextId,
            status: { state: TaskState.TASK_STATE_WORKING, timestamp: new Date().toISOString(), message: agentMessage(`step ${i + 1}`, { taskId, contextId }) },
            metadata: undefined,
          }),
        );
      }
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_COMPLETED, timestamp: new Date().toISOString(), message: undefined },
          metadata: undefined,
        }),
      );
      bus.finished();
    },
    async cancelTask() {},
  };
}

export async function startA2aAgent(opts: A2aAgentOptions): Promise<RunningAgent> {
  const server = https.createServer({
    key: opts.keyPem,
    cert: opts.certChainPem,
    ca: opts.bundlePem,
    requestCert: opts.requireClientCert ?? true,
    rejectUnauthorized: opts.requireClientCert ?? true,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const base = `https://127.0.0.1:${port}`;
  let grpcServer: grpc.Server | undefined;
  let grpcPort = port + 1;
  if (opts.grpc) {
    grpcServer = new grpc.Server();
    const creds = grpc.ServerCredentials.createSsl(
      Buffer.from(opts.bundlePem),
      [{ private_key: Buffer.from(opts.keyPem), cert_chain: Buffer.from(opts.certChainPem) }],
      opts.requireClientCert ?? true,
    );
    grpcPort = await new Promise<number>((resolve, reject) => grpcServer!.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
  }
  const card: AgentCard = {
    name: opts.name,
    description: `test agent ${opts.name}`,
    supportedInterfaces: duplicateInterfacesForLegacy(
      [
        { url: `${base}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
        { url: `${base}/a2a/rest`, protocolBinding: 'HTTP+JSON', tenant: '', protocolVersion: '1.0' },
        { url: `127.0.0.1:${grpcPort}`, protocolBinding: 'GRPC', tenant: opts.grpc?.tenant ?? '', protocolVersion: '1.0' },
      ],
      ['JSONRPC', 'HTTP+JSON'],
    ),
    provider: undefined,
    version: '1.0.0',
    documentationUrl: '',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: opts.extendedSkills !== undefined },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: [
      { id: 'echo', name: 'Echo', description: 'echoes', tags: ['test'], examples: [], inputModes: ['text'], outputModes: ['text'], securityRequirements: [] },
    ],
    signatures: [],
    iconUrl: '',
  };
  const extended = opts.extendedSkills && { ...card, skills: [...card.skills, ...opts.extendedSkills] };
  const sdkHandler = new DefaultRequestHandler(
    card,
    new InMemoryTaskStore(),
    opts.executor ?? echoExecutor(),
    undefined,
    undefined,
    undefined,
    extended && (() => Promise.resolve(extended)),
    opts.signCard?.(base),
  );
  const handler = opts.onMethod ? recording(sdkHandler, opts.onMethod) : sdkHandler;
  const app = express();
  const jwks = opts.jwks;
  if (jwks) app.get('/.well-known/jwks.json', (_req, res) => void res.json(jwks));
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler, legacyCompat: { enabled: true } }));
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat: { enabled: true } }));
  app.use('/a2a/rest', restHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat: { enabled: true } }));
  server.on('request', app);
  if (grpcServer !== undefined) {
    const onRequest = opts.grpc?.onRequest;
    const seen = onRequest
      ? new Proxy(handler, {
          get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver) as unknown;
            if (typeof prop !== 'string' || typeof v !== 'function') return v;
            return (...args: unknown[]) => {
              onRequest(prop, args[0] as { tenant?: string });
              return (v as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        })
      : handler;
    grpcServer.addService(A2AService, grpcService({ requestHandler: seen, userBuilder: UserBuilder.noAuthentication }));
  }
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return {
    url: base,
    port,
    grpcUrl: grpcServer === undefined ? undefined : `https://127.0.0.1:${grpcPort}`,
    card,
    close: async () => {
      grpcServer?.forceShutdown();
      await new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}

/**
 * A task that waits for the caller: a new message creates a task in `input-required` (it stays in the task
 * store, so it can be read, continued, cancelled); a message continuing it (message.taskId) completes it.
 * `onCall` is told the caller the SDK saw (context.user.userName) on every execute.
 */
export function pendingTaskExecutor(onCall?: (userName: string | undefined) => void): AgentExecutor {
  const status = (state: TaskState, text?: string, ids?: { taskId: string; contextId: string }) => ({
    state,
    timestamp: new Date().toISOString(),
    message: text === undefined ? undefined : agentMessage(text, ids),
  });
  return {
    execute(rc: RequestContext, bus: ExecutionEventBus) {
      onCall?.(rc.context.user?.userName);
      const { taskId, contextId } = rc;
      if (rc.task === undefined) {
        bus.publish(
          AgentEvent.task({
            id: taskId,
            contextId,
            status: status(TaskState.TASK_STATE_INPUT_REQUIRED, 'tell me more', { taskId, contextId }),
            artifacts: [],
            history: [rc.userMessage],
            metadata: undefined,
          }),
        );
      } else {
        bus.publish(AgentEvent.task({ ...rc.task, status: status(TaskState.TASK_STATE_COMPLETED) }));
      }
      bus.finished();
      return Promise.resolve();
    },
    cancelTask(taskId: string, bus: ExecutionEventBus) {
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId: '', status: status(TaskState.TASK_STATE_CANCELED), metadata: undefined }));
      bus.finished();
      return Promise.resolve();
    },
  };
}
