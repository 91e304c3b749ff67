import { Agent, fetch as undiciFetch } from 'undici';

/**
 * An HTTPS client presenting a client certificate (what an agent uses to call the gateway), as an undici
 * Agent and a `fetch` bound to it. The `fetch` fits @a2a-js/sdk's `fetchImpl` options.
 */
export interface MtlsClient {
  agent: Agent;
  fetch: typeof fetch;
  close(): Promise<void>;
}

export function mtlsClient(
  id: { keyPem: string; certChainPem: string },
  bundlePem: string,
  opts: { servername?: string; connections?: number } = {},
): MtlsClient {
  const agent = new Agent({
    connect: { key: id.keyPem, cert: id.certChainPem, ca: bundlePem, servername: opts.servername },
    connections: opts.connections,
  });
  const f = ((input: unknown, init?: Record<string, unknown>) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init ?? {}), dispatcher: agent })) as unknown as typeof fetch;
  return { agent, fetch: f, close: () => agent.close() };
}

/** fetch() options of a v0.3 JSON-RPC `message/send` with request id `rpcId`: a call through the gateway. */
export function messageSend(rpcId: number): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: rpcId,
      method: 'message/send',
      params: { message: { kind: 'message', role: 'user', messageId: `m${rpcId}`, parts: [{ kind: 'text', text: 'hi' }] } },
    }),
  };
}
