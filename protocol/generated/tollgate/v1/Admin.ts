// Original file: proto/tollgate/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CallGraph as _tollgate_v1_CallGraph, CallGraph__Output as _tollgate_v1_CallGraph__Output } from '../../tollgate/v1/CallGraph.js';
import type { CancelTaskRequest as _tollgate_v1_CancelTaskRequest, CancelTaskRequest__Output as _tollgate_v1_CancelTaskRequest__Output } from '../../tollgate/v1/CancelTaskRequest.js';
import type { CancelTaskResponse as _tollgate_v1_CancelTaskResponse, CancelTaskResponse__Output as _tollgate_v1_CancelTaskResponse__Output } from '../../tollgate/v1/CancelTaskResponse.js';
import type { ClearShadowLimitsRequest as _tollgate_v1_ClearShadowLimitsRequest, ClearShadowLimitsRequest__Output as _tollgate_v1_ClearShadowLimitsRequest__Output } from '../../tollgate/v1/ClearShadowLimitsRequest.js';
import type { ClearShadowPolicyRequest as _tollgate_v1_ClearShadowPolicyRequest, ClearShadowPolicyRequest__Output as _tollgate_v1_ClearShadowPolicyRequest__Output } from '../../tollgate/v1/ClearShadowPolicyRequest.js';
import type { CreateJoinTokenRequest as _tollgate_v1_CreateJoinTokenRequest, CreateJoinTokenRequest__Output as _tollgate_v1_CreateJoinTokenRequest__Output } from '../../tollgate/v1/CreateJoinTokenRequest.js';
import type { CreateJoinTokenResponse as _tollgate_v1_CreateJoinTokenResponse, CreateJoinTokenResponse__Output as _tollgate_v1_CreateJoinTokenResponse__Output } from '../../tollgate/v1/CreateJoinTokenResponse.js';
import type { Event as _tollgate_v1_Event, Event__Output as _tollgate_v1_Event__Output } from '../../tollgate/v1/Event.js';
import type { ExplainPolicyRequest as _tollgate_v1_ExplainPolicyRequest, ExplainPolicyRequest__Output as _tollgate_v1_ExplainPolicyRequest__Output } from '../../tollgate/v1/ExplainPolicyRequest.js';
import type { GetCallGraphRequest as _tollgate_v1_GetCallGraphRequest, GetCallGraphRequest__Output as _tollgate_v1_GetCallGraphRequest__Output } from '../../tollgate/v1/GetCallGraphRequest.js';
import type { GetLimitsDiffRequest as _tollgate_v1_GetLimitsDiffRequest, GetLimitsDiffRequest__Output as _tollgate_v1_GetLimitsDiffRequest__Output } from '../../tollgate/v1/GetLimitsDiffRequest.js';
import type { GetLimitsRequest as _tollgate_v1_GetLimitsRequest, GetLimitsRequest__Output as _tollgate_v1_GetLimitsRequest__Output } from '../../tollgate/v1/GetLimitsRequest.js';
import type { GetPolicyDiffRequest as _tollgate_v1_GetPolicyDiffRequest, GetPolicyDiffRequest__Output as _tollgate_v1_GetPolicyDiffRequest__Output } from '../../tollgate/v1/GetPolicyDiffRequest.js';
import type { GetPolicyRequest as _tollgate_v1_GetPolicyRequest, GetPolicyRequest__Output as _tollgate_v1_GetPolicyRequest__Output } from '../../tollgate/v1/GetPolicyRequest.js';
import type { Limits as _tollgate_v1_Limits, Limits__Output as _tollgate_v1_Limits__Output } from '../../tollgate/v1/Limits.js';
import type { ListAgentsRequest as _tollgate_v1_ListAgentsRequest, ListAgentsRequest__Output as _tollgate_v1_ListAgentsRequest__Output } from '../../tollgate/v1/ListAgentsRequest.js';
import type { ListAgentsResponse as _tollgate_v1_ListAgentsResponse, ListAgentsResponse__Output as _tollgate_v1_ListAgentsResponse__Output } from '../../tollgate/v1/ListAgentsResponse.js';
import type { ListCertificatesRequest as _tollgate_v1_ListCertificatesRequest, ListCertificatesRequest__Output as _tollgate_v1_ListCertificatesRequest__Output } from '../../tollgate/v1/ListCertificatesRequest.js';
import type { ListCertificatesResponse as _tollgate_v1_ListCertificatesResponse, ListCertificatesResponse__Output as _tollgate_v1_ListCertificatesResponse__Output } from '../../tollgate/v1/ListCertificatesResponse.js';
import type { Policy as _tollgate_v1_Policy, Policy__Output as _tollgate_v1_Policy__Output } from '../../tollgate/v1/Policy.js';
import type { PolicyDiff as _tollgate_v1_PolicyDiff, PolicyDiff__Output as _tollgate_v1_PolicyDiff__Output } from '../../tollgate/v1/PolicyDiff.js';
import type { PolicyExplanation as _tollgate_v1_PolicyExplanation, PolicyExplanation__Output as _tollgate_v1_PolicyExplanation__Output } from '../../tollgate/v1/PolicyExplanation.js';
import type { PromoteShadowLimitsRequest as _tollgate_v1_PromoteShadowLimitsRequest, PromoteShadowLimitsRequest__Output as _tollgate_v1_PromoteShadowLimitsRequest__Output } from '../../tollgate/v1/PromoteShadowLimitsRequest.js';
import type { PromoteShadowPolicyRequest as _tollgate_v1_PromoteShadowPolicyRequest, PromoteShadowPolicyRequest__Output as _tollgate_v1_PromoteShadowPolicyRequest__Output } from '../../tollgate/v1/PromoteShadowPolicyRequest.js';
import type { PutAgentRequest as _tollgate_v1_PutAgentRequest, PutAgentRequest__Output as _tollgate_v1_PutAgentRequest__Output } from '../../tollgate/v1/PutAgentRequest.js';
import type { PutAgentResponse as _tollgate_v1_PutAgentResponse, PutAgentResponse__Output as _tollgate_v1_PutAgentResponse__Output } from '../../tollgate/v1/PutAgentResponse.js';
import type { RemoveAgentRequest as _tollgate_v1_RemoveAgentRequest, RemoveAgentRequest__Output as _tollgate_v1_RemoveAgentRequest__Output } from '../../tollgate/v1/RemoveAgentRequest.js';
import type { RemoveAgentResponse as _tollgate_v1_RemoveAgentResponse, RemoveAgentResponse__Output as _tollgate_v1_RemoveAgentResponse__Output } from '../../tollgate/v1/RemoveAgentResponse.js';
import type { ResetSettingsRequest as _tollgate_v1_ResetSettingsRequest, ResetSettingsRequest__Output as _tollgate_v1_ResetSettingsRequest__Output } from '../../tollgate/v1/ResetSettingsRequest.js';
import type { ResetSettingsResponse as _tollgate_v1_ResetSettingsResponse, ResetSettingsResponse__Output as _tollgate_v1_ResetSettingsResponse__Output } from '../../tollgate/v1/ResetSettingsResponse.js';
import type { RevokeRequest as _tollgate_v1_RevokeRequest, RevokeRequest__Output as _tollgate_v1_RevokeRequest__Output } from '../../tollgate/v1/RevokeRequest.js';
import type { RevokeResponse as _tollgate_v1_RevokeResponse, RevokeResponse__Output as _tollgate_v1_RevokeResponse__Output } from '../../tollgate/v1/RevokeResponse.js';
import type { SetLimitsRequest as _tollgate_v1_SetLimitsRequest, SetLimitsRequest__Output as _tollgate_v1_SetLimitsRequest__Output } from '../../tollgate/v1/SetLimitsRequest.js';
import type { SetPolicyRequest as _tollgate_v1_SetPolicyRequest, SetPolicyRequest__Output as _tollgate_v1_SetPolicyRequest__Output } from '../../tollgate/v1/SetPolicyRequest.js';
import type { WatchEventsRequest as _tollgate_v1_WatchEventsRequest, WatchEventsRequest__Output as _tollgate_v1_WatchEventsRequest__Output } from '../../tollgate/v1/WatchEventsRequest.js';

export interface AdminClient extends grpc.Client {
  CancelTask(argument: _tollgate_v1_CancelTaskRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CancelTaskResponse__Output>): grpc.ClientUnaryCall;
  CancelTask(argument: _tollgate_v1_CancelTaskRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_CancelTaskResponse__Output>): grpc.ClientUnaryCall;
  CancelTask(argument: _tollgate_v1_CancelTaskRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CancelTaskResponse__Output>): grpc.ClientUnaryCall;
  CancelTask(argument: _tollgate_v1_CancelTaskRequest, callback: grpc.requestCallback<_tollgate_v1_CancelTaskResponse__Output>): grpc.ClientUnaryCall;
  cancelTask(argument: _tollgate_v1_CancelTaskRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CancelTaskResponse__Output>): grpc.ClientUnaryCall;
  cancelTask(argument: _tollgate_v1_CancelTaskRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_CancelTaskResponse__Output>): grpc.ClientUnaryCall;
  cancelTask(argument: _tollgate_v1_CancelTaskRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CancelTaskResponse__Output>): grpc.ClientUnaryCall;
  cancelTask(argument: _tollgate_v1_CancelTaskRequest, callback: grpc.requestCallback<_tollgate_v1_CancelTaskResponse__Output>): grpc.ClientUnaryCall;
  
  ClearShadowLimits(argument: _tollgate_v1_ClearShadowLimitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  ClearShadowLimits(argument: _tollgate_v1_ClearShadowLimitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  ClearShadowLimits(argument: _tollgate_v1_ClearShadowLimitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  ClearShadowLimits(argument: _tollgate_v1_ClearShadowLimitsRequest, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  clearShadowLimits(argument: _tollgate_v1_ClearShadowLimitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  clearShadowLimits(argument: _tollgate_v1_ClearShadowLimitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  clearShadowLimits(argument: _tollgate_v1_ClearShadowLimitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  clearShadowLimits(argument: _tollgate_v1_ClearShadowLimitsRequest, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  
  ClearShadowPolicy(argument: _tollgate_v1_ClearShadowPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  ClearShadowPolicy(argument: _tollgate_v1_ClearShadowPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  ClearShadowPolicy(argument: _tollgate_v1_ClearShadowPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  ClearShadowPolicy(argument: _tollgate_v1_ClearShadowPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  clearShadowPolicy(argument: _tollgate_v1_ClearShadowPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  clearShadowPolicy(argument: _tollgate_v1_ClearShadowPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  clearShadowPolicy(argument: _tollgate_v1_ClearShadowPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  clearShadowPolicy(argument: _tollgate_v1_ClearShadowPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  
  CreateJoinToken(argument: _tollgate_v1_CreateJoinTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateJoinToken(argument: _tollgate_v1_CreateJoinTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateJoinToken(argument: _tollgate_v1_CreateJoinTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateJoinToken(argument: _tollgate_v1_CreateJoinTokenRequest, callback: grpc.requestCallback<_tollgate_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  createJoinToken(argument: _tollgate_v1_CreateJoinTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  createJoinToken(argument: _tollgate_v1_CreateJoinTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  createJoinToken(argument: _tollgate_v1_CreateJoinTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  createJoinToken(argument: _tollgate_v1_CreateJoinTokenRequest, callback: grpc.requestCallback<_tollgate_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Would this call be allowed by the RUNNING config (or its shadow rules), and what decides it.
   */
  ExplainPolicy(argument: _tollgate_v1_ExplainPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyExplanation__Output>): grpc.ClientUnaryCall;
  ExplainPolicy(argument: _tollgate_v1_ExplainPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_PolicyExplanation__Output>): grpc.ClientUnaryCall;
  ExplainPolicy(argument: _tollgate_v1_ExplainPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyExplanation__Output>): grpc.ClientUnaryCall;
  ExplainPolicy(argument: _tollgate_v1_ExplainPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_PolicyExplanation__Output>): grpc.ClientUnaryCall;
  /**
   * Would this call be allowed by the RUNNING config (or its shadow rules), and what decides it.
   */
  explainPolicy(argument: _tollgate_v1_ExplainPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyExplanation__Output>): grpc.ClientUnaryCall;
  explainPolicy(argument: _tollgate_v1_ExplainPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_PolicyExplanation__Output>): grpc.ClientUnaryCall;
  explainPolicy(argument: _tollgate_v1_ExplainPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyExplanation__Output>): grpc.ClientUnaryCall;
  explainPolicy(argument: _tollgate_v1_ExplainPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_PolicyExplanation__Output>): grpc.ClientUnaryCall;
  
  GetCallGraph(argument: _tollgate_v1_GetCallGraphRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CallGraph__Output>): grpc.ClientUnaryCall;
  GetCallGraph(argument: _tollgate_v1_GetCallGraphRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_CallGraph__Output>): grpc.ClientUnaryCall;
  GetCallGraph(argument: _tollgate_v1_GetCallGraphRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CallGraph__Output>): grpc.ClientUnaryCall;
  GetCallGraph(argument: _tollgate_v1_GetCallGraphRequest, callback: grpc.requestCallback<_tollgate_v1_CallGraph__Output>): grpc.ClientUnaryCall;
  getCallGraph(argument: _tollgate_v1_GetCallGraphRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CallGraph__Output>): grpc.ClientUnaryCall;
  getCallGraph(argument: _tollgate_v1_GetCallGraphRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_CallGraph__Output>): grpc.ClientUnaryCall;
  getCallGraph(argument: _tollgate_v1_GetCallGraphRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_CallGraph__Output>): grpc.ClientUnaryCall;
  getCallGraph(argument: _tollgate_v1_GetCallGraphRequest, callback: grpc.requestCallback<_tollgate_v1_CallGraph__Output>): grpc.ClientUnaryCall;
  
  /**
   * rate limits + delegation budgets
   */
  GetLimits(argument: _tollgate_v1_GetLimitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  GetLimits(argument: _tollgate_v1_GetLimitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  GetLimits(argument: _tollgate_v1_GetLimitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  GetLimits(argument: _tollgate_v1_GetLimitsRequest, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  /**
   * rate limits + delegation budgets
   */
  getLimits(argument: _tollgate_v1_GetLimitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  getLimits(argument: _tollgate_v1_GetLimitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  getLimits(argument: _tollgate_v1_GetLimitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  getLimits(argument: _tollgate_v1_GetLimitsRequest, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  
  /**
   * Shadow rate limits: SetLimits with shadow = true stores them beside the rate limits (same section and
   * version); the gateway counts the calls they would decide differently (would_limit, would_allow) in a
   * PolicyDiff-shaped answer. Promote makes them the rate limits in one write.
   */
  GetLimitsDiff(argument: _tollgate_v1_GetLimitsDiffRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  GetLimitsDiff(argument: _tollgate_v1_GetLimitsDiffRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  GetLimitsDiff(argument: _tollgate_v1_GetLimitsDiffRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  GetLimitsDiff(argument: _tollgate_v1_GetLimitsDiffRequest, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  /**
   * Shadow rate limits: SetLimits with shadow = true stores them beside the rate limits (same section and
   * version); the gateway counts the calls they would decide differently (would_limit, would_allow) in a
   * PolicyDiff-shaped answer. Promote makes them the rate limits in one write.
   */
  getLimitsDiff(argument: _tollgate_v1_GetLimitsDiffRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  getLimitsDiff(argument: _tollgate_v1_GetLimitsDiffRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  getLimitsDiff(argument: _tollgate_v1_GetLimitsDiffRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  getLimitsDiff(argument: _tollgate_v1_GetLimitsDiffRequest, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  
  GetPolicy(argument: _tollgate_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _tollgate_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _tollgate_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _tollgate_v1_GetPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _tollgate_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _tollgate_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _tollgate_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _tollgate_v1_GetPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  
  /**
   * Shadow rules: SetPolicy with shadow = true stores them beside the policy (same section and version);
   * the gateway counts the calls they would decide differently. Promote makes them the policy in one write.
   */
  GetPolicyDiff(argument: _tollgate_v1_GetPolicyDiffRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  GetPolicyDiff(argument: _tollgate_v1_GetPolicyDiffRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  GetPolicyDiff(argument: _tollgate_v1_GetPolicyDiffRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  GetPolicyDiff(argument: _tollgate_v1_GetPolicyDiffRequest, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  /**
   * Shadow rules: SetPolicy with shadow = true stores them beside the policy (same section and version);
   * the gateway counts the calls they would decide differently. Promote makes them the policy in one write.
   */
  getPolicyDiff(argument: _tollgate_v1_GetPolicyDiffRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  getPolicyDiff(argument: _tollgate_v1_GetPolicyDiffRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  getPolicyDiff(argument: _tollgate_v1_GetPolicyDiffRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  getPolicyDiff(argument: _tollgate_v1_GetPolicyDiffRequest, callback: grpc.requestCallback<_tollgate_v1_PolicyDiff__Output>): grpc.ClientUnaryCall;
  
  ListAgents(argument: _tollgate_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _tollgate_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _tollgate_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _tollgate_v1_ListAgentsRequest, callback: grpc.requestCallback<_tollgate_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _tollgate_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _tollgate_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _tollgate_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _tollgate_v1_ListAgentsRequest, callback: grpc.requestCallback<_tollgate_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  
  ListCertificates(argument: _tollgate_v1_ListCertificatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  ListCertificates(argument: _tollgate_v1_ListCertificatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  ListCertificates(argument: _tollgate_v1_ListCertificatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  ListCertificates(argument: _tollgate_v1_ListCertificatesRequest, callback: grpc.requestCallback<_tollgate_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  listCertificates(argument: _tollgate_v1_ListCertificatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  listCertificates(argument: _tollgate_v1_ListCertificatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  listCertificates(argument: _tollgate_v1_ListCertificatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  listCertificates(argument: _tollgate_v1_ListCertificatesRequest, callback: grpc.requestCallback<_tollgate_v1_ListCertificatesResponse__Output>): grpc.ClientUnaryCall;
  
  PromoteShadowLimits(argument: _tollgate_v1_PromoteShadowLimitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  PromoteShadowLimits(argument: _tollgate_v1_PromoteShadowLimitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  PromoteShadowLimits(argument: _tollgate_v1_PromoteShadowLimitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  PromoteShadowLimits(argument: _tollgate_v1_PromoteShadowLimitsRequest, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  promoteShadowLimits(argument: _tollgate_v1_PromoteShadowLimitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  promoteShadowLimits(argument: _tollgate_v1_PromoteShadowLimitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  promoteShadowLimits(argument: _tollgate_v1_PromoteShadowLimitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  promoteShadowLimits(argument: _tollgate_v1_PromoteShadowLimitsRequest, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  
  PromoteShadowPolicy(argument: _tollgate_v1_PromoteShadowPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  PromoteShadowPolicy(argument: _tollgate_v1_PromoteShadowPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  PromoteShadowPolicy(argument: _tollgate_v1_PromoteShadowPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  PromoteShadowPolicy(argument: _tollgate_v1_PromoteShadowPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  promoteShadowPolicy(argument: _tollgate_v1_PromoteShadowPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  promoteShadowPolicy(argument: _tollgate_v1_PromoteShadowPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  promoteShadowPolicy(argument: _tollgate_v1_PromoteShadowPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  promoteShadowPolicy(argument: _tollgate_v1_PromoteShadowPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  
  /**
   * register or update
   */
  PutAgent(argument: _tollgate_v1_PutAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PutAgentResponse__Output>): grpc.ClientUnaryCall;
  PutAgent(argument: _tollgate_v1_PutAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_PutAgentResponse__Output>): grpc.ClientUnaryCall;
  PutAgent(argument: _tollgate_v1_PutAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PutAgentResponse__Output>): grpc.ClientUnaryCall;
  PutAgent(argument: _tollgate_v1_PutAgentRequest, callback: grpc.requestCallback<_tollgate_v1_PutAgentResponse__Output>): grpc.ClientUnaryCall;
  /**
   * register or update
   */
  putAgent(argument: _tollgate_v1_PutAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PutAgentResponse__Output>): grpc.ClientUnaryCall;
  putAgent(argument: _tollgate_v1_PutAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_PutAgentResponse__Output>): grpc.ClientUnaryCall;
  putAgent(argument: _tollgate_v1_PutAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_PutAgentResponse__Output>): grpc.ClientUnaryCall;
  putAgent(argument: _tollgate_v1_PutAgentRequest, callback: grpc.requestCallback<_tollgate_v1_PutAgentResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveAgent(argument: _tollgate_v1_RemoveAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_RemoveAgentResponse__Output>): grpc.ClientUnaryCall;
  RemoveAgent(argument: _tollgate_v1_RemoveAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_RemoveAgentResponse__Output>): grpc.ClientUnaryCall;
  RemoveAgent(argument: _tollgate_v1_RemoveAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_RemoveAgentResponse__Output>): grpc.ClientUnaryCall;
  RemoveAgent(argument: _tollgate_v1_RemoveAgentRequest, callback: grpc.requestCallback<_tollgate_v1_RemoveAgentResponse__Output>): grpc.ClientUnaryCall;
  removeAgent(argument: _tollgate_v1_RemoveAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_RemoveAgentResponse__Output>): grpc.ClientUnaryCall;
  removeAgent(argument: _tollgate_v1_RemoveAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_RemoveAgentResponse__Output>): grpc.ClientUnaryCall;
  removeAgent(argument: _tollgate_v1_RemoveAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_RemoveAgentResponse__Output>): grpc.ClientUnaryCall;
  removeAgent(argument: _tollgate_v1_RemoveAgentRequest, callback: grpc.requestCallback<_tollgate_v1_RemoveAgentResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Go back to the config file's sections: the saved agents / policy / limits stop replacing the file's,
   * now and on every later start, until the next write through this API (the section's version still moves on).
   */
  ResetSettings(argument: _tollgate_v1_ResetSettingsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ResetSettingsResponse__Output>): grpc.ClientUnaryCall;
  ResetSettings(argument: _tollgate_v1_ResetSettingsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_ResetSettingsResponse__Output>): grpc.ClientUnaryCall;
  ResetSettings(argument: _tollgate_v1_ResetSettingsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ResetSettingsResponse__Output>): grpc.ClientUnaryCall;
  ResetSettings(argument: _tollgate_v1_ResetSettingsRequest, callback: grpc.requestCallback<_tollgate_v1_ResetSettingsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Go back to the config file's sections: the saved agents / policy / limits stop replacing the file's,
   * now and on every later start, until the next write through this API (the section's version still moves on).
   */
  resetSettings(argument: _tollgate_v1_ResetSettingsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ResetSettingsResponse__Output>): grpc.ClientUnaryCall;
  resetSettings(argument: _tollgate_v1_ResetSettingsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_ResetSettingsResponse__Output>): grpc.ClientUnaryCall;
  resetSettings(argument: _tollgate_v1_ResetSettingsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_ResetSettingsResponse__Output>): grpc.ClientUnaryCall;
  resetSettings(argument: _tollgate_v1_ResetSettingsRequest, callback: grpc.requestCallback<_tollgate_v1_ResetSettingsResponse__Output>): grpc.ClientUnaryCall;
  
  Revoke(argument: _tollgate_v1_RevokeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _tollgate_v1_RevokeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _tollgate_v1_RevokeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _tollgate_v1_RevokeRequest, callback: grpc.requestCallback<_tollgate_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _tollgate_v1_RevokeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _tollgate_v1_RevokeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _tollgate_v1_RevokeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _tollgate_v1_RevokeRequest, callback: grpc.requestCallback<_tollgate_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  
  SetLimits(argument: _tollgate_v1_SetLimitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  SetLimits(argument: _tollgate_v1_SetLimitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  SetLimits(argument: _tollgate_v1_SetLimitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  SetLimits(argument: _tollgate_v1_SetLimitsRequest, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  setLimits(argument: _tollgate_v1_SetLimitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  setLimits(argument: _tollgate_v1_SetLimitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  setLimits(argument: _tollgate_v1_SetLimitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  setLimits(argument: _tollgate_v1_SetLimitsRequest, callback: grpc.requestCallback<_tollgate_v1_Limits__Output>): grpc.ClientUnaryCall;
  
  /**
   * optimistic concurrency on `version`
   */
  SetPolicy(argument: _tollgate_v1_SetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  SetPolicy(argument: _tollgate_v1_SetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  SetPolicy(argument: _tollgate_v1_SetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  SetPolicy(argument: _tollgate_v1_SetPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  /**
   * optimistic concurrency on `version`
   */
  setPolicy(argument: _tollgate_v1_SetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  setPolicy(argument: _tollgate_v1_SetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  setPolicy(argument: _tollgate_v1_SetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  setPolicy(argument: _tollgate_v1_SetPolicyRequest, callback: grpc.requestCallback<_tollgate_v1_Policy__Output>): grpc.ClientUnaryCall;
  
  /**
   * Audit events as they happen: calls, refusals, issuance, revocations, config changes, task cancels.
   * Response headers are sent as soon as the subscription is live. A subscriber that cannot keep up is
   * ended with RESOURCE_EXHAUSTED (the gateway never waits for a watcher): reconnect to resume.
   */
  WatchEvents(argument: _tollgate_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tollgate_v1_Event__Output>;
  WatchEvents(argument: _tollgate_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tollgate_v1_Event__Output>;
  /**
   * Audit events as they happen: calls, refusals, issuance, revocations, config changes, task cancels.
   * Response headers are sent as soon as the subscription is live. A subscriber that cannot keep up is
   * ended with RESOURCE_EXHAUSTED (the gateway never waits for a watcher): reconnect to resume.
   */
  watchEvents(argument: _tollgate_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tollgate_v1_Event__Output>;
  watchEvents(argument: _tollgate_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tollgate_v1_Event__Output>;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  CancelTask: grpc.handleUnaryCall<_tollgate_v1_CancelTaskRequest__Output, _tollgate_v1_CancelTaskResponse>;
  
  ClearShadowLimits: grpc.handleUnaryCall<_tollgate_v1_ClearShadowLimitsRequest__Output, _tollgate_v1_Limits>;
  
  ClearShadowPolicy: grpc.handleUnaryCall<_tollgate_v1_ClearShadowPolicyRequest__Output, _tollgate_v1_Policy>;
  
  CreateJoinToken: grpc.handleUnaryCall<_tollgate_v1_CreateJoinTokenRequest__Output, _tollgate_v1_CreateJoinTokenResponse>;
  
  /**
   * Would this call be allowed by the RUNNING config (or its shadow rules), and what decides it.
   */
  ExplainPolicy: grpc.handleUnaryCall<_tollgate_v1_ExplainPolicyRequest__Output, _tollgate_v1_PolicyExplanation>;
  
  GetCallGraph: grpc.handleUnaryCall<_tollgate_v1_GetCallGraphRequest__Output, _tollgate_v1_CallGraph>;
  
  /**
   * rate limits + delegation budgets
   */
  GetLimits: grpc.handleUnaryCall<_tollgate_v1_GetLimitsRequest__Output, _tollgate_v1_Limits>;
  
  /**
   * Shadow rate limits: SetLimits with shadow = true stores them beside the rate limits (same section and
   * version); the gateway counts the calls they would decide differently (would_limit, would_allow) in a
   * PolicyDiff-shaped answer. Promote makes them the rate limits in one write.
   */
  GetLimitsDiff: grpc.handleUnaryCall<_tollgate_v1_GetLimitsDiffRequest__Output, _tollgate_v1_PolicyDiff>;
  
  GetPolicy: grpc.handleUnaryCall<_tollgate_v1_GetPolicyRequest__Output, _tollgate_v1_Policy>;
  
  /**
   * Shadow rules: SetPolicy with shadow = true stores them beside the policy (same section and version);
   * the gateway counts the calls they would decide differently. Promote makes them the policy in one write.
   */
  GetPolicyDiff: grpc.handleUnaryCall<_tollgate_v1_GetPolicyDiffRequest__Output, _tollgate_v1_PolicyDiff>;
  
  ListAgents: grpc.handleUnaryCall<_tollgate_v1_ListAgentsRequest__Output, _tollgate_v1_ListAgentsResponse>;
  
  ListCertificates: grpc.handleUnaryCall<_tollgate_v1_ListCertificatesRequest__Output, _tollgate_v1_ListCertificatesResponse>;
  
  PromoteShadowLimits: grpc.handleUnaryCall<_tollgate_v1_PromoteShadowLimitsRequest__Output, _tollgate_v1_Limits>;
  
  PromoteShadowPolicy: grpc.handleUnaryCall<_tollgate_v1_PromoteShadowPolicyRequest__Output, _tollgate_v1_Policy>;
  
  /**
   * register or update
   */
  PutAgent: grpc.handleUnaryCall<_tollgate_v1_PutAgentRequest__Output, _tollgate_v1_PutAgentResponse>;
  
  RemoveAgent: grpc.handleUnaryCall<_tollgate_v1_RemoveAgentRequest__Output, _tollgate_v1_RemoveAgentResponse>;
  
  /**
   * Go back to the config file's sections: the saved agents / policy / limits stop replacing the file's,
   * now and on every later start, until the next write through this API (the section's version still moves on).
   */
  ResetSettings: grpc.handleUnaryCall<_tollgate_v1_ResetSettingsRequest__Output, _tollgate_v1_ResetSettingsResponse>;
  
  Revoke: grpc.handleUnaryCall<_tollgate_v1_RevokeRequest__Output, _tollgate_v1_RevokeResponse>;
  
  SetLimits: grpc.handleUnaryCall<_tollgate_v1_SetLimitsRequest__Output, _tollgate_v1_Limits>;
  
  /**
   * optimistic concurrency on `version`
   */
  SetPolicy: grpc.handleUnaryCall<_tollgate_v1_SetPolicyRequest__Output, _tollgate_v1_Policy>;
  
  /**
   * Audit events as they happen: calls, refusals, issuance, revocations, config changes, task cancels.
   * Response headers are sent as soon as the subscription is live. A subscriber that cannot keep up is
   * ended with RESOURCE_EXHAUSTED (the gateway never waits for a watcher): reconnect to resume.
   */
  WatchEvents: grpc.handleServerStreamingCall<_tollgate_v1_WatchEventsRequest__Output, _tollgate_v1_Event>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  CancelTask: MethodDefinition<_tollgate_v1_CancelTaskRequest, _tollgate_v1_CancelTaskResponse, _tollgate_v1_CancelTaskRequest__Output, _tollgate_v1_CancelTaskResponse__Output>
  ClearShadowLimits: MethodDefinition<_tollgate_v1_ClearShadowLimitsRequest, _tollgate_v1_Limits, _tollgate_v1_ClearShadowLimitsRequest__Output, _tollgate_v1_Limits__Output>
  ClearShadowPolicy: MethodDefinition<_tollgate_v1_ClearShadowPolicyRequest, _tollgate_v1_Policy, _tollgate_v1_ClearShadowPolicyRequest__Output, _tollgate_v1_Policy__Output>
  CreateJoinToken: MethodDefinition<_tollgate_v1_CreateJoinTokenRequest, _tollgate_v1_CreateJoinTokenResponse, _tollgate_v1_CreateJoinTokenRequest__Output, _tollgate_v1_CreateJoinTokenResponse__Output>
  ExplainPolicy: MethodDefinition<_tollgate_v1_ExplainPolicyRequest, _tollgate_v1_PolicyExplanation, _tollgate_v1_ExplainPolicyRequest__Output, _tollgate_v1_PolicyExplanation__Output>
  GetCallGraph: MethodDefinition<_tollgate_v1_GetCallGraphRequest, _tollgate_v1_CallGraph, _tollgate_v1_GetCallGraphRequest__Output, _tollgate_v1_CallGraph__Output>
  GetLimits: MethodDefinition<_tollgate_v1_GetLimitsRequest, _tollgate_v1_Limits, _tollgate_v1_GetLimitsRequest__Output, _tollgate_v1_Limits__Output>
  GetLimitsDiff: MethodDefinition<_tollgate_v1_GetLimitsDiffRequest, _tollgate_v1_PolicyDiff, _tollgate_v1_GetLimitsDiffRequest__Output, _tollgate_v1_PolicyDiff__Output>
  GetPolicy: MethodDefinition<_tollgate_v1_GetPolicyRequest, _tollgate_v1_Policy, _tollgate_v1_GetPolicyRequest__Output, _tollgate_v1_Policy__Output>
  GetPolicyDiff: MethodDefinition<_tollgate_v1_GetPolicyDiffRequest, _tollgate_v1_PolicyDiff, _tollgate_v1_GetPolicyDiffRequest__Output, _tollgate_v1_PolicyDiff__Output>
  ListAgents: MethodDefinition<_tollgate_v1_ListAgentsRequest, _tollgate_v1_ListAgentsResponse, _tollgate_v1_ListAgentsRequest__Output, _tollgate_v1_ListAgentsResponse__Output>
  ListCertificates: MethodDefinition<_tollgate_v1_ListCertificatesRequest, _tollgate_v1_ListCertificatesResponse, _tollgate_v1_ListCertificatesRequest__Output, _tollgate_v1_ListCertificatesResponse__Output>
  PromoteShadowLimits: MethodDefinition<_tollgate_v1_PromoteShadowLimitsRequest, _tollgate_v1_Limits, _tollgate_v1_PromoteShadowLimitsRequest__Output, _tollgate_v1_Limits__Output>
  PromoteShadowPolicy: MethodDefinition<_tollgate_v1_PromoteShadowPolicyRequest, _tollgate_v1_Policy, _tollgate_v1_PromoteShadowPolicyRequest__Output, _tollgate_v1_Policy__Output>
  PutAgent: MethodDefinition<_tollgate_v1_PutAgentRequest, _tollgate_v1_PutAgentResponse, _tollgate_v1_PutAgentRequest__Output, _tollgate_v1_PutAgentResponse__Output>
  RemoveAgent: MethodDefinition<_tollgate_v1_RemoveAgentRequest, _tollgate_v1_RemoveAgentResponse, _tollgate_v1_RemoveAgentRequest__Output, _tollgate_v1_RemoveAgentResponse__Output>
  ResetSettings: MethodDefinition<_tollgate_v1_ResetSettingsRequest, _tollgate_v1_ResetSettingsResponse, _tollgate_v1_ResetSettingsRequest__Output, _tollgate_v1_ResetSettingsResponse__Output>
  Revoke: MethodDefinition<_tollgate_v1_RevokeRequest, _tollgate_v1_RevokeResponse, _tollgate_v1_RevokeRequest__Output, _tollgate_v1_RevokeResponse__Output>
  SetLimits: MethodDefinition<_tollgate_v1_SetLimitsRequest, _tollgate_v1_Limits, _tollgate_v1_SetLimitsRequest__Output, _tollgate_v1_Limits__Output>
  SetPolicy: MethodDefinition<_tollgate_v1_SetPolicyRequest, _tollgate_v1_Policy, _tollgate_v1_SetPolicyRequest__Output, _tollgate_v1_Policy__Output>
  WatchEvents: MethodDefinition<_tollgate_v1_WatchEventsRequest, _tollgate_v1_Event, _tollgate_v1_WatchEventsRequest__Output, _tollgate_v1_Event__Output>
}
