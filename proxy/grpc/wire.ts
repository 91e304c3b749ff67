import type { CanonicalMethod } from '../a2a/methods.js';
import { refusal, RPC_CODE, type Refusal } from '../errors.js';

/**
 * The A2A gRPC binding on the wire, as the gateway needs it. Pure.
 *
 * WHICH AGENT: a gRPC path is `/lf.a2a.v1.A2AService/<Method>`, with no room for `/a2a/<agent>` (stock gRPC
 * clients, grpc-js included, do not prefix paths), and a per-agent `:authority` would need a DNS name and a
 * certificate name per agent. A2A v1.0 has the field for exactly this: `AgentInterface.tenant`, "an opaque
 * string used for routing requests to a specific agent or tenant when multiple agents are served behind a
 * single A2A endpoint"; clients MUST copy it into the `tenant` field of every request message (the
 * @a2a-js/sdk client does, from the interface it picked). So the gateway's card for agent <name> declares
 * its GRPC interface with `tenant: "<name>"` (or `"<name>/<the agent's own tenant>"` when the agent's card
 * has one), and the gateway routes each call by the first segment of the request's tenant, then forwards
 * the message with the tenant set back to what the agent declared (the rest after "/", or none).
 *
 * Every other form is refused, gRPC-shaped: no tenant (INVALID_ARGUMENT, saying what to set), an unknown
 * agent (NOT_FOUND), a compressed message (UNIMPLEMENTED: the gateway must read the tenant), more or less
 * than one message (INVALID_ARGUMENT: every A2A method takes exactly one), malformed protobuf at the top
 * level or a tenant given twice (INVALID_ARGUMENT: the gateway and the agent must not read different
 * tenants), the v0.3 service `a2a.v1.A2AService` (UNIMPLEMENTED: its messages have no tenant).
 *
 * Only the top level of the request message is walked (field tags and lengths), never decoded; the rest of
 * the bytes go to the agent unchanged.
 */
export const A2A_GRPC_SERVICE = 'lf.a2a.v1.A2AService';
const PREFIX = `/${A2A_GRPC_SERVICE}/`;
const V03_PREFIX = '/a2a.v1.A2AService/';

/** The field number of `tenant` in each method's request message (a2a.proto, A2A v1.0). */
const TENANT_FIELD = new Map<string, number>([
  ['SendMessage', 1],
  ['SendStreamingMessage', 1],
  ['GetTask', 1],
  ['ListTasks', 1],
  ['CancelTask', 1],
  ['SubscribeToTask', 1],
  ['CreateTaskPushNotificationConfig', 1],
  ['GetTaskPushNotificationConfig', 1],
  ['ListTaskPushNotificationConfigs', 4],
  ['GetExtendedAgentCard', 1],
  ['DeleteTaskPushNotificationConfig', 1],
] satisfies [CanonicalMethod, number][]);

const clip = (s: string) => (s.length > 80 ? s.slice(0, 77) + '...' : s);

export type GrpcMethod = { ok: true; method: CanonicalMethod; tenantField: number } | { ok: false; refusal: Refusal };

/** The A2A method of a gRPC call, from its `:path` (the path names the method; there is no other place). */
export function decideGrpcMethod(path: string): GrpcMethod {
  if (path.startsWith(PREFIX)) {
    const name = path.slice(PREFIX.length);
    const field = TENANT_FIELD.get(name);
    if (field !== undefined) return { ok: true, method: name as CanonicalMethod, tenantField: field };
    return { ok: false, refusal: refusal(501, RPC_CODE.notImplemented, 'grpc_unknown_method', `the A2A gRPC service has no method "${clip(name)}"`) };
  }
  if (path.startsWith(V03_PREFIX)) {
    return {
      ok: false,
      refusal: refusal(
        501,
        RPC_CODE.notImplemented,
        'grpc_v03',
        `the gateway carries the A2A v1.0 gRPC service ${A2A_GRPC_SERVICE} only: the v0.3 service a2a.v1.A2AService has no tenant field to route by`,
      ),
    };
  }
  return {
    ok: false,
    refusal: refusal(
      501,
      RPC_CODE.notImplemented,
      'grpc_unknown_service',
      `the gateway serves only the A2A gRPC service ${A2A_GRPC_SERVICE}, not "${clip(path)}"`,
    ),
  };
}

export type TenantRoute = { ok: true; agent: string; /** the frame to send upstream: tenant mapped back */ frame: Buffer } | { ok: false; refusal: Refusal };

const invalid = (reason: string, message: string): TenantRoute => ({ ok: false, refusal: refusal(400, RPC_CODE.badRequest, reason, message) });

/** A varint at `p`: [value, next position], or undefined when it runs past `end` or over 2^53. */
function varint(b: Buffer, p: number, end: number): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8 && p < end; i++) {
    const x = b[p++];
    v += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) return [v, p];
    mul *= 128;
  }
  return undefined;
}

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/**
 * Route a unary-request gRPC call by its message's tenant. `body` is the whole request body (the gateway has
 * read it, bounded by maxBodyBytes); `field` the tenant's field number; `hasAgent` the registry.
 */
export function routeByTenant(body: Buffer, field: number, hasAgent: (name: string) => boolean): TenantRoute {
  if (body.length < 5) return invalid('grpc_framing', 'the request has no complete gRPC message: every A2A method takes exactly one');
  if (body[0] !== 0)
    return {
      ok: false,
      refusal: refusal(
        501,
        RPC_CODE.notImplemented,
        'grpc_compressed',
        'the gateway does not accept compressed request messages (it reads the tenant to route the call): send them uncompressed',
      ),
    };
  const len = body.readUInt32BE(1);
  if (5 + len !== body.length)
    return invalid(
      'grpc_framing',
      5 + len > body.length ? 'the request gRPC message is truncated' : 'the request holds more than one gRPC message: every A2A method takes exactly one',
    );
  const end = body.length;
  let p = 5;
  let tStart = -1;
  let tEnd = -1;
  let vStart = -1;
  while (p < end) {
    const at = p;
    const tag = varint(body, p, end);
    if (tag === undefined) return invalid('grpc_malformed', 'the request message is not valid protobuf');
    p = tag[1];
    const fieldNo = Math.floor(tag[0] / 8);
    const wt = tag[0] % 8;
    if (fieldNo === 0) return invalid('grpc_malformed', 'the request message is not valid protobuf (field number 0)');
    let valueStart = p;
    if (wt === 0) {
      const v = varint(body, p, end);
      if (v === undefined) return invalid('grpc_malformed', 'the request message is not valid protobuf');
      p = v[1];
    } else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else if (wt === 2) {
      const l = varint(body, p, end);
      if (l === undefined) return invalid('grpc_malformed', 'the request message is not valid protobuf');
      valueStart = l[1];
      p = l[1] + l[0];
    } else return invalid('grpc_malformed', `the request message is not valid protobuf (wire type ${wt})`);
    if (p > end) return invalid('grpc_malformed', 'the request message is truncated');
    if (fieldNo === field) {
      if (wt !== 2) return invalid('grpc_malformed', 'the request message has a tenant that is not a string');
      if (tStart >= 0) return invalid('grpc_tenant_twice', 'the request message sets its tenant more than once');
      tStart = at;
      tEnd = p;
      vStart = valueStart;
    }
  }
  if (tStart < 0 || tEnd === vStart)
    return invalid(
      'grpc_no_tenant',
      "the request has no tenant: behind the gateway an agent's gRPC interface is chosen by the request's tenant field; use the GRPC interface of the agent's card as the gateway serves it (its tenant names the agent)",
    );
  const value = body.subarray(vStart, tEnd);
  const slash = value.indexOf(0x2f);
  const agent = value.toString('utf8', 0, slash < 0 ? value.length : slash);
  if (!hasAgent(agent))
    return {
      ok: false,
      refusal: refusal(404, RPC_CODE.notFound, 'unknown_agent', `no agent named "${clip(agent)}" is registered (the request's tenant names the agent)`),
    };
  // the message without the gateway's tenant; the agent's own (after "/") goes first when there is one
  const rest = slash < 0 ? value.subarray(0, 0) : value.subarray(slash + 1);
  const head = rest.length === 0 ? Buffer.alloc(0) : Buffer.from([...encodeVarint(field * 8 + 2), ...encodeVarint(rest.length)]);
  const msgLen = head.length + rest.length + (tStart - 5) + (end - tEnd);
  const frame = Buffer.allocUnsafe(5 + msgLen);
  frame[0] = 0;
  frame.writeUInt32BE(msgLen, 1);
  let o = 5;
  o += head.copy(frame, o);
  o += rest.copy(frame, o);
  o += body.copy(frame, o, 5, tStart);
  body.copy(frame, o, tEnd, end);
  return { ok: true, agent, frame };
}

/** Each length-delimited field `fieldNo` at the top level of msg[start, end): [valueStart, valueEnd] pairs. */
function lengthFields(b: Buffer, start: number, end: number, fieldNo: number): [number, number][] | undefined {
  const out: [number, number][] = [];
  let p = start;
  while (p < end) {
    const tag = varint(b, p, end);
    if (tag === undefined) return undefined;
    p = tag[1];
    const wt = tag[0] % 8;
    if (wt === 0) {
      const v = varint(b, p, end);
      if (v === undefined) return undefined;
      p = v[1];
    } else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else if (wt === 2) {
      const l = varint(b, p, end);
      if (l === undefined) return undefined;
      if (Math.floor(tag[0] / 8) === fieldNo) out.push([l[1], l[1] + l[0]]);
      p = l[1] + l[0];
    } else return undefined;
    if (p > end) return undefined;
  }
  return out;
}

/**
 * Push configs on the gRPC binding. The gateway checks push-config URLs on the JSON bindings (a2a/push-config.ts);
 * on gRPC it does not decode messages, so a call that carries one is refused rather than passed on unchecked
 * (an agent would otherwise post task updates to any address the caller named): the push-config methods, and
 * a SendMessage whose `configuration` (field 3) sets `task_push_notification_config` (field 2). `frame` is the
 * routed gRPC frame (5-byte header + message). Undefined: nothing to refuse.
 */
export function grpcPushConfigRefusal(method: string, frame: Buffer): Refusal | undefined {
  const refuse = (what: string) =>
    refusal(
      403,
      RPC_CODE.forbidden,
      'push_config_grpc',
      `${what} over gRPC is not carried by the gateway (it checks push URLs on the JSON-RPC and HTTP+JSON bindings): set push configs there, pointing at the gateway's /a2a-push/<your agent>/ route`,
    );
  if (method === 'CreateTaskPushNotificationConfig') return refuse('creating a push notification config');
  if (method !== 'SendMessage' && method !== 'SendStreamingMessage') return undefined;
  const configs = lengthFields(frame, 5, frame.length, 3);
  if (configs === undefined) return refusal(400, RPC_CODE.badRequest, 'grpc_malformed', 'the request message is not valid protobuf');
  for (const [s, e] of configs) {
    const push = lengthFields(frame, s, e, 2);
    if (push === undefined || push.length > 0) return refuse('a push notification config in SendMessage');
  }
  return undefined;
}

/** Methods whose request names an existing task (the message methods do when their message sets task_id). */
const TASK_METHODS = new Set([
  'GetTask',
  'ListTasks',
  'CancelTask',
  'SubscribeToTask',
  'GetTaskPushNotificationConfig',
  'ListTaskPushNotificationConfigs',
  'DeleteTaskPushNotificationConfig',
]);

/**
 * Task ownership on the gRPC binding. The gateway records who created each task, and checks it, on the JSON
 * bindings (stages/tasks.ts), where it reads the requests and answers; it does not decode gRPC messages, so a
 * gRPC call that reaches an existing task (GetTask, ListTasks, CancelTask, SubscribeToTask, push-config reads
 * and deletes, or a SendMessage whose message (field 2) sets task_id (field 3)) is refused rather than let
 * through unchecked, unless the operator leaves ownership of unknown tasks to the agents
 * (taskOwners.unknownTasks: forward, e.g. agents using agent-bootstrap's spiffeUserBuilder). Undefined: allowed.
 */
export function grpcTaskAccessRefusal(method: string, frame: Buffer, unknownTasks: 'refuse' | 'forward'): Refusal | undefined {
  if (unknownTasks === 'forward') return undefined;
  let names = TASK_METHODS.has(method);
  if (!names && (method === 'SendMessage' || method === 'SendStreamingMessage')) {
    const messages = lengthFields(frame, 5, frame.length, 2);
    if (messages === undefined) return refusal(400, RPC_CODE.badRequest, 'grpc_malformed', 'the request message is not valid protobuf');
    for (const [s, e] of messages) {
      const ids = lengthFields(frame, s, e, 3);
      if (ids === undefined || ids.some(([a, b]) => b > a)) names = true;
    }
  }
  if (!names) return undefined;
  return refusal(
    403,
    RPC_CODE.forbidden,
    'task_owner_unchecked',
    `${method === 'SendMessage' || method === 'SendStreamingMessage' ? 'continuing a task' : method} over gRPC is refused: the gateway checks that a task is its creator's on the JSON-RPC and HTTP+JSON bindings only; use those, or set taskOwners.unknownTasks: forward to leave it to the agent`,
  );
}
