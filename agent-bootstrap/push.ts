/**
 * Push notifications through the gateway (protocol/push.ts), both ends:
 *
 *  - MtlsPushNotificationSender: the SDK's PushNotificationSender (`@a2a-js/sdk/server`) for an agent that
 *    serves tasks. It POSTs each task update to the callback URL its client registered, with the agent's
 *    SVID, over the mTLS fetch (which also attaches the task's delegation context, so the gateway counts
 *    the push against the root task). It only ever pushes to the gateway's callback route: a stored config
 *    naming any other URL is skipped and reported, never fetched (no SSRF from this side either).
 *  - pushReceiver: a request handler for the agent that receives pushes (mount it at the path configured as
 *    `agents.<name>.push`, behind createAgentServer). It trusts the sender named in x-forwarded-client-cert
 *    only on a connection from the gateway, and only on a request the gateway marked as a push.
 *  - pushCallbackUrl: the URL a caller gives a callee (`https://<gateway>/a2a-push/<caller>/<rest>`).
 *
 * Nothing here loads server code at import: the SDK's types are type-only imports, and its default
 * serializer is loaded on the first push (an agent that sends pushes already runs the SDK's server).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PushNotificationSender, PushNotificationSerializer, PushNotificationStore } from '@a2a-js/sdk/server';
import { parseSpiffeId } from '../certs/spiffe-id.js';
import { PUSH_HEADER, PUSH_ROUTE_PREFIX } from '../protocol/push.js';
import type { MtlsFetch } from './mtls-fetch.js';
import { peerOf } from './server.js';

export { pushCallbackUrl, PUSH_HEADER, PUSH_METHOD, PUSH_ROUTE_PREFIX } from '../protocol/push.js';

type SendArgs = Parameters<PushNotificationSender['send']>;
type StreamResponse = SendArgs[0];
type CallContext = SendArgs[1];
type Task = NonNullable<SendArgs[2]>;
type StoredConfig = { config: { url: string; token?: string; authentication?: { scheme?: string; credentials?: string } }; wireVersion: string };

export interface MtlsPushSenderOptions {
  /** the gateway origin the callback URLs must name, e.g. https://127.0.0.1:8443 */
  gateway: string;
  /** per wire version (as the SDK's DefaultPushNotificationSender); default: the SDK's v1.0 serializer for all */
  serializers?: Record<string, PushNotificationSerializer>;
  /** per push (ms, default 5000) */
  timeoutMs?: number;
  /** told about every push that failed or was skipped (default: console.warn) */
  onError?: (error: Error, url: string, taskId: string) => void;
}

function taskIdOf(r: StreamResponse): string {
  const p = r.payload;
  if (p === undefined) return '';
  return p.$case === 'task' ? p.value.id : p.value.taskId;
}

/** A PushNotificationSender that pushes only through the gateway, with the agent's SVID. */
export class MtlsPushNotificationSender implements PushNotificationSender {
  private readonly prefix: string;
  private readonly chains = new Map<string, Promise<void>>();
  private fallback: PushNotificationSerializer | undefined;

  constructor(
    private readonly store: PushNotificationStore,
    private readonly fetchImpl: MtlsFetch | typeof globalThis.fetch,
    private readonly opts: MtlsPushSenderOptions,
  ) {
    const u = new URL(opts.gateway);
    if (u.protocol !== 'https:') throw new TypeError(`gateway must be an https:// origin, got ${opts.gateway}`);
    this.prefix = `${u.origin}${PUSH_ROUTE_PREFIX}`;
  }

  async send(streamResponse: StreamResponse, context: CallContext, task?: Task): Promise<void> {
    const taskId = taskIdOf(streamResponse);
    if (taskId === '') return;
    const configs: StoredConfig[] = this.store.loadWithMetadata
      ? await this.store.loadWithMetadata(taskId, context)
      : (await this.store.load(taskId, context)).map((config) => ({ config, wireVersion: context.requestedVersion || '0.3' }));
    if (configs.length === 0) return;
    // one task's updates go out in order
    const prev = this.chains.get(taskId) ?? Promise.resolve();
    const next = prev.then(() => Promise.all(configs.map((c) => this.pushOne(streamResponse, task, c, taskId))).then(() => undefined));
    this.chains.set(taskId, next);
    try {
      await next;
    } finally {
      if (this.chains.get(taskId) === next) this.chains.delete(taskId);
    }
  }

  private async serializer(wireVersion: string): Promise<PushNotificationSerializer> {
    const s = this.opts.serializers?.[wireVersion] ?? this.opts.serializers?.['1.0'];
    if (s !== undefined) return s;
    if (this.fallback === undefined) {
      const { V1PushNotificationSerializer } = await import('@a2a-js/sdk/server');
      this.fallback = new V1PushNotificationSerializer();
    }
    return this.fallback;
  }

  private async pushOne(r: StreamResponse, task: Task | undefined, stored: StoredConfig, taskId: string): Promise<void> {
    const { url, token, authentication } = stored.config;
    const report = (e: Error) => (this.opts.onError ?? ((err: Error) => console.warn(`push for task ${taskId} to ${url}: ${err.message}`)))(e, url, taskId);
    if (typeof url !== 'string' || !url.startsWith(this.prefix) || new URL(url).href !== url) {
      report(new Error(`not the gateway's callback route (${this.prefix}<receiver>/...): not sent`));
      return;
    }
    try {
      const { body, contentType } = (await this.serializer(stored.wireVersion)).serialize(r, task);
      const headers: Record<string, string> = { 'content-type': contentType };
      if (authentication?.scheme && authentication.credentials) headers.authorization = `${authentication.scheme} ${authentication.credentials}`;
      else if (token) headers['x-a2a-notification-token'] = token;
      const res = await this.fetchImpl(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`the gateway answered ${res.status}: ${text.slice(0, 300)}`);
    } catch (e) {
      report(e instanceof Error ? e : new Error(String(e)));
    }
  }
}

/** A push as the receiver sees it. */
export interface ReceivedPush {
  /** the sending agent's SPIFFE ID, as the gateway authenticated it */
  sender: string;
  /** the request path after the receiver's push path (e.g. '/task-1'), with its query */
  path: string;
  /** the body parsed as JSON (v1.0: a StreamResponse, e.g. {"statusUpdate": {...}}), or undefined if not JSON */
  notification: unknown;
  body: string;
  headers: IncomingMessage['headers'];
}

export interface PushReceiverOptions {
  /** the gateway's SPIFFE ID: the only peer whose pushes are accepted, and whose XFCC is trusted */
  gatewayId: string;
  /** largest body accepted (bytes, default 1 MiB) */
  maxBytes?: number;
}

function answer(res: ServerResponse, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ error: message, reason });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Pure: the sender a push request names, or why it is not a push from the gateway `gatewayId`. */
export function pushSender(headers: IncomingMessage['headers'], gatewayId: string): { ok: true; sender: string } | { ok: false; reason: string } {
  if (headers[PUSH_HEADER] !== '1') return { ok: false, reason: `not a push forwarded by the gateway (no ${PUSH_HEADER} header)` };
  const xfcc = headers['x-forwarded-client-cert'];
  const prefix = `By=${gatewayId};URI=`;
  if (typeof xfcc !== 'string' || xfcc.includes(',') || !xfcc.startsWith(prefix))
    return { ok: false, reason: `x-forwarded-client-cert must be "${prefix}<sender>"` };
  try {
    return { ok: true, sender: parseSpiffeId(xfcc.slice(prefix.length)).uri };
  } catch (e) {
    return { ok: false, reason: `x-forwarded-client-cert names no valid SPIFFE ID: ${(e as Error).message}` };
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const parsed = (req as { body?: unknown }).body; // a body parser ran first
  if (typeof parsed === 'string') return Promise.resolve(parsed);
  if (Buffer.isBuffer(parsed)) return Promise.resolve(parsed.toString('utf8'));
  if (parsed !== undefined && req.readableEnded) return Promise.resolve(JSON.stringify(parsed));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A request handler accepting pushes forwarded by the gateway; `onPush` gets each one (answered 204 when it
 * resolves, 500 when it throws). Refused: a peer that is not the gateway (403), a request without the
 * gateway's push marking or XFCC (400). Use it behind createAgentServer (which validates the peer's SVID).
 */
export function pushReceiver(onPush: (push: ReceivedPush) => unknown, opts: PushReceiverOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const gatewayId = parseSpiffeId(opts.gatewayId).uri;
  const max = opts.maxBytes ?? 1024 * 1024;
  return (req, res) => {
    const peer = peerOf(req);
    if (peer === undefined || peer.id.uri !== gatewayId) {
      answer(res, 403, 'not_gateway', `pushes are accepted only from the gateway ${gatewayId}, through its mTLS connection`);
      return;
    }
    const who = pushSender(req.headers, gatewayId);
    if (!who.ok) {
      answer(res, 400, 'not_a_push', who.reason);
      return;
    }
    void (async () => {
      const body = await readBody(req, max);
      if (body === undefined) {
        answer(res, 413, 'too_large', `a push body is limited to ${max} bytes`);
        return;
      }
      let notification: unknown;
      try {
        notification = JSON.parse(body);
      } catch {
        notification = undefined;
      }
      await onPush({ sender: who.sender, path: req.url ?? '', notification, body, headers: req.headers });
      res.writeHead(204);
      res.end();
    })().catch((e: unknown) => {
      if (!res.headersSent) answer(res, 500, 'receiver_error', `the push handler failed: ${(e as Error).message}`);
    });
  };
}
