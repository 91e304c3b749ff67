/**
 * A2A method extraction. v0.3 JSON-RPC names (message/send), v1.0 JSON-RPC/gRPC names (SendMessage)
 * and v1.0 REST routes (POST /message:send) all map to ONE canonical name: the v1.0 PascalCase name.
 * Policy, metrics and the audit log only ever see canonical names (or 'unknown'), so a rule written
 * with either spelling matches calls made with either protocol version.
 */
import { scanJsonRpc, type ScannedRpc } from './scan.js';
import { PUSH_METHOD } from '../../protocol/push.js';
import { METHOD_NAMES as NAMES, type CanonicalMethod } from '../../protocol/a2a-methods.js';

// The names themselves live in protocol/ (the config schema validates method names with them too).
export { CANONICAL_METHODS, canonicalMethod, isStreamingMethod, type CanonicalMethod } from '../../protocol/a2a-methods.js';

/**
 * Pseudo-method of a push notification on the gateway's callback route (protocol/push.ts): accepted in policy
 * `methods`, never read from a request body (a JSON-RPC "PushNotification" is 'unknown').
 */
export const PUSH_NOTIFICATION_METHOD = PUSH_METHOD;

/** Pseudo-method of discovery (the public card at /.well-known): never appears in a JSON-RPC body. */
export const AGENT_CARD_METHOD = 'GetAgentCard';
/** Pseudo-method of the gateway's directory (GET /a2a). */
export const DIRECTORY_METHOD = 'ListAgents';
/** Label for anything we cannot name; a bounded metric label value. */
export const UNKNOWN_METHOD = 'unknown';

/** A method name as a policy rule may list it: an A2A method (canonical form) or the PushNotification pseudo-method. */
export function policyMethod(name: string): string | undefined {
  return name === PUSH_METHOD ? PUSH_METHOD : NAMES.get(name);
}

export interface JsonRpcCall {
  /** canonical method, or 'unknown' */
  method: string;
  /** the request id as sent (echoed in error bodies); null when absent or invalid */
  id: string | number | null;
  /** some key in the body is taskId, task_id, contextId or context_id (see scan.ts ScannedRpc.namesTask) */
  namesTask: boolean;
}

export type JsonRpcParse =
  | { kind: 'jsonrpc'; call: JsonRpcCall }
  | { kind: 'not-jsonrpc'; namesTask: boolean } // parses but is not a JSON-RPC request object (e.g. a REST body)
  | { kind: 'batch' } // a JSON array: A2A does not use batches, and a batch could hide a method
  | { kind: 'invalid' }; // not JSON at all

/**
 * Read method and id from a request body. Pure; the body is small (bounded by maxBodyBytes). A body that
 * is one strict-JSON object is read by scan.ts without building it; anything else goes to JSON.parse.
 */
export function parseJsonRpc(body: Buffer | string): JsonRpcParse {
  if (typeof body !== 'string') {
    const s = scanJsonRpc(body);
    if (s !== undefined) return fromScan(body, s);
  }
  return parseSlow(body);
}

/** Every accepted method name as bytes, by byte length: the fast path names the method without a string. */
const NAMES_BY_LENGTH = new Map<number, [Buffer, CanonicalMethod][]>();
for (const [name, canonical] of NAMES) {
  const b = Buffer.from(name, 'latin1');
  let list = NAMES_BY_LENGTH.get(b.length);
  if (list === undefined) NAMES_BY_LENGTH.set(b.length, (list = []));
  list.push([b, canonical]);
}

function methodAt(body: Buffer, start: number, end: number): string {
  const list = NAMES_BY_LENGTH.get(end - start);
  if (list !== undefined) {
    for (const [b, canonical] of list) {
      let k = 0;
      while (k < b.length && body[start + k] === b[k]) k++;
      if (k === b.length) return canonical;
    }
  }
  return UNKNOWN_METHOD; // what NAMES.get of the decoded name gives for anything not listed
}

/** A JSON number's value: small non-negative integers digit by digit, anything else through Number(). */
function numberAt(body: Buffer, start: number, end: number): number {
  if (end - start <= 15) {
    let n = 0;
    let k = start;
    for (; k < end; k++) {
      const d = body[k] - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (k === end) return n;
  }
  return Number(body.toString('latin1', start, end));
}

function fromScan(body: Buffer, s: ScannedRpc): JsonRpcParse {
  const { jsonrpc, method, id } = s;
  // "2.0", as bytes
  const notRpc = s.namesTask ? NOT_JSONRPC_TASK : NOT_JSONRPC;
  if (jsonrpc === undefined || jsonrpc.kind !== 'string' || jsonrpc.end - jsonrpc.start !== 3) return notRpc;
  if (body[jsonrpc.start] !== 0x32 || body[jsonrpc.start + 1] !== 0x2e || body[jsonrpc.start + 2] !== 0x30) return notRpc;
  if (method === undefined || method.kind !== 'string') return notRpc;
  let rpcId: string | number | null = null;
  if (id !== undefined && id.kind === 'string') rpcId = body.toString('utf8', id.start, id.end);
  else if (id !== undefined && id.kind === 'number') {
    const n = numberAt(body, id.start, id.end);
    rpcId = Number.isFinite(n) ? n : null;
  }
  return { kind: 'jsonrpc', call: { method: methodAt(body, method.start, method.end), id: rpcId, namesTask: s.namesTask } };
}

const NOT_JSONRPC: JsonRpcParse = { kind: 'not-jsonrpc', namesTask: false };
const NOT_JSONRPC_TASK: JsonRpcParse = { kind: 'not-jsonrpc', namesTask: true };

const TASK_KEYS = new Set(['taskId', 'task_id', 'contextId', 'context_id']);

/** Does any object in `v`, at any depth, have a key naming a task or context? (iterative: no recursion limit) */
function hasTaskKey(v: unknown): boolean {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x !== 'object' || x === null) continue;
    if (Array.isArray(x)) {
      for (const e of x) stack.push(e);
      continue;
    }
    for (const [k, e] of Object.entries(x)) {
      if (TASK_KEYS.has(k)) return true;
      stack.push(e);
    }
  }
  return false;
}

/** JSON.parse: the reference behaviour, and the path for everything the scanner leaves. */
export function parseSlow(body: Buffer | string): JsonRpcParse {
  let v: unknown;
  try {
    v = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return { kind: 'invalid' };
  }
  if (Array.isArray(v)) return { kind: 'batch' };
  if (v === null || typeof v !== 'object') return { kind: 'not-jsonrpc', namesTask: false };
  const o = v as Record<string, unknown>;
  const namesTask = hasTaskKey(o);
  if (o.jsonrpc !== '2.0' || typeof o.method !== 'string') return { kind: 'not-jsonrpc', namesTask };
  const rawId = o.id;
  const id = typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId)) ? rawId : null;
  return { kind: 'jsonrpc', call: { method: NAMES.get(o.method) ?? UNKNOWN_METHOD, id, namesTask } };
}

/** What a call is, before policy sees it: its A2A method, or why the gateway refuses to name one. */
export type CallMethod =
  /** namesTask: the body may name an A2A task or context (a key taskId, task_id, contextId, context_id; true when unread) */
  | { kind: 'ok'; method: string; id: string | number | null; isRpc: boolean; namesTask: boolean }
  | { kind: 'refuse'; reason: 'batch' | 'rpc_on_rest_path' | 'push_not_a2a_call'; message: string; id: string | number | null };

/**
 * The method of a call from its HTTP method, path (relative to the agent's route) and body. On an
 * HTTP+JSON path the path names the method (that is what the agent's REST router runs), so a JSON-RPC
 * envelope posted there is refused: authorizing it by its body's method would let a caller allowed only
 * GetTask run CancelTask at /tasks/<id>:cancel. A batch is refused too (it could hide a method).
 */
export function decideMethod(httpMethod: string, rest: string, body: Buffer | undefined): CallMethod {
  const fromPath = methodFromRest(httpMethod, rest);
  let namesTask = body !== undefined;
  if (body !== undefined && httpMethod === 'POST') {
    const p = parseJsonRpc(body);
    if (p.kind === 'jsonrpc') {
      if (fromPath === UNKNOWN_METHOD) return { kind: 'ok', method: p.call.method, id: p.call.id, isRpc: true, namesTask: p.call.namesTask };
      return {
        kind: 'refuse',
        reason: 'rpc_on_rest_path',
        message: `a JSON-RPC request was sent to the HTTP+JSON path of ${fromPath}: on a REST path the path names the method; send JSON-RPC to the agent's JSON-RPC endpoint`,
        id: p.call.id,
      };
    }
    if (p.kind === 'batch')
      return { kind: 'refuse', reason: 'batch', message: 'JSON-RPC batches are not accepted by the gateway: send one request per call', id: null };
    if (p.kind === 'not-jsonrpc') namesTask = p.namesTask;
  }
  return { kind: 'ok', method: fromPath, id: null, isRpc: false, namesTask };
}

/**
 * The A2A method of a v1.0 (or v0.3 `/v1/...`) HTTP+JSON request, from its path relative to the
 * agent's route. Matches on the trailing segments, so a REST mount point (`/a2a/rest`), a tenant
 * prefix (`/{tenant}/...`) or the v0.3 `/v1` prefix in front are all fine. It names what the SDK's
 * express router would run for the same request (test/proxy/method-confusion.test.ts compares them):
 * routes match case-insensitively, HEAD is served by GET routes, and a task id is any non-empty segment
 * (`GET /tasks/a:b` reads task "a:b"; only a `:subscribe` suffix makes it a subscription).
 */
export function methodFromRest(httpMethod: string, path: string): string {
  // the agent's root ('' or '/', where JSON-RPC calls go): no segment can name a method
  if (path.length <= 1) return UNKNOWN_METHOD;
  const q = path.indexOf('?');
  let p = q >= 0 ? path.slice(0, q) : path;
  if (/[A-Z]/.test(p)) p = p.toLowerCase(); // express routes ignore case
  const segs = p.split('/');
  let n = segs.length;
  if (n > 0 && segs[n - 1] === '') n--; // tolerate one trailing slash
  if (n === 0) return UNKNOWN_METHOD;
  const last = segs[n - 1];
  const prev = n >= 2 ? segs[n - 2] : '';
  const prev2 = n >= 3 ? segs[n - 3] : '';
  switch (httpMethod) {
    case 'POST':
      if (last === 'message:send') return 'SendMessage';
      if (last === 'message:stream') return 'SendStreamingMessage';
      if (prev === 'tasks' && last.endsWith(':cancel') && last.length > 7) return 'CancelTask';
      if (prev === 'tasks' && last.endsWith(':subscribe') && last.length > 10) return 'SubscribeToTask';
      if (last === 'pushnotificationconfigs' && prev2 === 'tasks') return 'CreateTaskPushNotificationConfig';
      return UNKNOWN_METHOD;
    case 'GET':
    case 'HEAD':
      if (prev === 'tasks' && last.endsWith(':subscribe') && last.length > 10) return 'SubscribeToTask';
      if (prev === 'tasks') return 'GetTask';
      if (last === 'tasks') return 'ListTasks';
      if (last === 'pushnotificationconfigs' && prev2 === 'tasks') return 'ListTaskPushNotificationConfigs';
      if (prev === 'pushnotificationconfigs' && n >= 4 && segs[n - 4] === 'tasks') return 'GetTaskPushNotificationConfig';
      if (last === 'extendedagentcard' || (last === 'card' && prev === 'v1')) return 'GetExtendedAgentCard';
      return UNKNOWN_METHOD;
    case 'DELETE':
      if (prev === 'pushnotificationconfigs' && n >= 4 && segs[n - 4] === 'tasks') return 'DeleteTaskPushNotificationConfig';
      return UNKNOWN_METHOD;
    default:
      return UNKNOWN_METHOD;
  }
}
