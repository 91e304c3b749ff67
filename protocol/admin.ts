/**
 * tollgate.v1.Admin (proto/tollgate/v1/admin.proto) as both sides see it: the client `tollgate ctl` uses,
 * the definition the control listener serves, the message types (generated/) and, per method, the
 * request and response types, so a call by method name is checked against the .proto.
 */
import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/admin.js';
import type { AdminDefinition, AdminHandlers } from './generated/tollgate/v1/Admin.js';
import { ADMIN_PROTO, loadProto, protoRoot } from './protos.js';
import { lazyServiceDefinition, SERVER_STREAM, UNARY, type MethodShape } from './lazy-definition.js';

export type { AdminClient, AdminDefinition, AdminHandlers } from './generated/tollgate/v1/Admin.js';
export type { Agent, Agent__Output } from './generated/tollgate/v1/Agent.js';
export type { AgentLimits, AgentLimits__Output } from './generated/tollgate/v1/AgentLimits.js';
export type { PolicyRule, PolicyRule__Output } from './generated/tollgate/v1/PolicyRule.js';
export type { Limits, Limits__Output } from './generated/tollgate/v1/Limits.js';
export type { Certificate, Certificate__Output } from './generated/tollgate/v1/Certificate.js';
export type { Event, Event__Output } from './generated/tollgate/v1/Event.js';
export type { Policy__Output } from './generated/tollgate/v1/Policy.js';
export type { PolicyExplanation, PolicyExplanation__Output } from './generated/tollgate/v1/PolicyExplanation.js';
export type { PolicyDiff, PolicyDiff__Output } from './generated/tollgate/v1/PolicyDiff.js';

export { ADMIN_PROTO };
export const ADMIN_SERVICE_NAME = 'tollgate.v1.Admin';

export type AdminClientConstructor = ProtoGrpcType['tollgate']['v1']['Admin'];

export function adminClientConstructor(): AdminClientConstructor {
  return (loadProto(ADMIN_PROTO) as ProtoGrpcType).tollgate.v1.Admin;
}

export function adminServiceDefinition(): AdminDefinition {
  return adminClientConstructor().service;
}

/** Admin method names (the index signature of grpc.ServiceDefinition left out). */
export type AdminMethod = keyof { [M in keyof AdminDefinition as string extends M ? never : M]: true };

/** The methods of admin.proto by shape (checked against the parsed file by test/control/lazy-definition). */
export const ADMIN_METHODS: Readonly<Record<AdminMethod, MethodShape>> = {
  CreateJoinToken: UNARY,
  ListAgents: UNARY,
  PutAgent: UNARY,
  RemoveAgent: UNARY,
  GetPolicy: UNARY,
  SetPolicy: UNARY,
  ExplainPolicy: UNARY,
  GetPolicyDiff: UNARY,
  PromoteShadowPolicy: UNARY,
  ClearShadowPolicy: UNARY,
  GetLimits: UNARY,
  SetLimits: UNARY,
  GetLimitsDiff: UNARY,
  PromoteShadowLimits: UNARY,
  ClearShadowLimits: UNARY,
  ResetSettings: UNARY,
  Revoke: UNARY,
  ListCertificates: UNARY,
  GetCallGraph: UNARY,
  CancelTask: UNARY,
  WatchEvents: SERVER_STREAM,
};

/**
 * What the control listener registers: adminServiceDefinition() with admin.proto parsed on the first
 * call instead of at start (protocol/lazy-definition.ts). A missing proto/ folder still fails at start.
 */
export function adminServerDefinition(): grpc.ServiceDefinition {
  protoRoot();
  return lazyServiceDefinition(ADMIN_SERVICE_NAME, ADMIN_METHODS, adminServiceDefinition);
}

/** The four message types of method M: what the client sends and receives, what the server receives and answers. */
type Messages<M extends AdminMethod> =
  AdminDefinition[M] extends MethodDefinition<infer ClientSends, infer ServerSends, infer ServerReceives, infer ClientReceives>
    ? { clientSends: ClientSends; clientReceives: ClientReceives; serverReceives: ServerReceives; serverSends: ServerSends }
    : never;
/** What a client sends to method M. */
export type AdminRequest<M extends AdminMethod> = Messages<M>['clientSends'];
/** What a client receives from method M (one message, or each message of a stream). */
export type AdminResponse<M extends AdminMethod> = Messages<M>['clientReceives'];
/** What the server receives in method M. */
export type AdminServerRequest<M extends AdminMethod> = Messages<M>['serverReceives'];
/** What the server answers from method M. */
export type AdminServerResponse<M extends AdminMethod> = Messages<M>['serverSends'];
/** Methods that answer with a stream (WatchEvents) and those that answer once (the definition's flag is a plain boolean; the handler types tell). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches a streaming handler of any message types
export type AdminStreamMethod = { [M in AdminMethod]: AdminHandlers[M] extends grpc.handleServerStreamingCall<any, any> ? M : never }[AdminMethod];
export type AdminUnaryMethod = Exclude<AdminMethod, AdminStreamMethod>;
