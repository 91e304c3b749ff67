import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminClient as _tollgate_v1_AdminClient, AdminDefinition as _tollgate_v1_AdminDefinition } from './tollgate/v1/Admin.js';
import type { Agent as _tollgate_v1_Agent, Agent__Output as _tollgate_v1_Agent__Output } from './tollgate/v1/Agent.js';
import type { AgentLimits as _tollgate_v1_AgentLimits, AgentLimits__Output as _tollgate_v1_AgentLimits__Output } from './tollgate/v1/AgentLimits.js';
import type { CallGraph as _tollgate_v1_CallGraph, CallGraph__Output as _tollgate_v1_CallGraph__Output } from './tollgate/v1/CallGraph.js';
import type { CancelTaskRequest as _tollgate_v1_CancelTaskRequest, CancelTaskRequest__Output as _tollgate_v1_CancelTaskRequest__Output } from './tollgate/v1/CancelTaskRequest.js';
import type { CancelTaskResponse as _tollgate_v1_CancelTaskResponse, CancelTaskResponse__Output as _tollgate_v1_CancelTaskResponse__Output } from './tollgate/v1/CancelTaskResponse.js';
import type { Certificate as _tollgate_v1_Certificate, Certificate__Output as _tollgate_v1_Certificate__Output } from './tollgate/v1/Certificate.js';
import type { ClearShadowLimitsRequest as _tollgate_v1_ClearShadowLimitsRequest, ClearShadowLimitsRequest__Output as _tollgate_v1_ClearShadowLimitsRequest__Output } from './tollgate/v1/ClearShadowLimitsRequest.js';
import type { ClearShadowPolicyRequest as _tollgate_v1_ClearShadowPolicyRequest, ClearShadowPolicyRequest__Output as _tollgate_v1_ClearShadowPolicyRequest__Output } from './tollgate/v1/ClearShadowPolicyRequest.js';
import type { CreateJoinTokenRequest as _tollgate_v1_CreateJoinTokenRequest, CreateJoinTokenRequest__Output as _tollgate_v1_CreateJoinTokenRequest__Output } from './tollgate/v1/CreateJoinTokenRequest.js';
import type { CreateJoinTokenResponse as _tollgate_v1_CreateJoinTokenResponse, CreateJoinTokenResponse__Output as _tollgate_v1_CreateJoinTokenResponse__Output } from './tollgate/v1/CreateJoinTokenResponse.js';
import type { Event as _tollgate_v1_Event, Event__Output as _tollgate_v1_Event__Output } from './tollgate/v1/Event.js';
import type { ExplainPolicyRequest as _tollgate_v1_ExplainPolicyRequest, ExplainPolicyRequest__Output as _tollgate_v1_ExplainPolicyRequest__Output } from './tollgate/v1/ExplainPolicyRequest.js';
import type { GetCallGraphRequest as _tollgate_v1_GetCallGraphRequest, GetCallGraphRequest__Output as _tollgate_v1_GetCallGraphRequest__Output } from './tollgate/v1/GetCallGraphRequest.js';
import type { GetLimitsDiffRequest as _tollgate_v1_GetLimitsDiffRequest, GetLimitsDiffRequest__Output as _tollgate_v1_GetLimitsDiffRequest__Output } from './tollgate/v1/GetLimitsDiffRequest.js';
import type { GetLimitsRequest as _tollgate_v1_GetLimitsRequest, GetLimitsRequest__Output as _tollgate_v1_GetLimitsRequest__Output } from './tollgate/v1/GetLimitsRequest.js';
import type { GetPolicyDiffRequest as _tollgate_v1_GetPolicyDiffRequest, GetPolicyDiffRequest__Output as _tollgate_v1_GetPolicyDiffRequest__Output } from './tollgate/v1/GetPolicyDiffRequest.js';
import type { GetPolicyRequest as _tollgate_v1_GetPolicyRequest, GetPolicyRequest__Output as _tollgate_v1_GetPolicyRequest__Output } from './tollgate/v1/GetPolicyRequest.js';
import type { Limits as _tollgate_v1_Limits, Limits__Output as _tollgate_v1_Limits__Output } from './tollgate/v1/Limits.js';
import type { ListAgentsRequest as _tollgate_v1_ListAgentsRequest, ListAgentsRequest__Output as _tollgate_v1_ListAgentsRequest__Output } from './tollgate/v1/ListAgentsRequest.js';
import type { ListAgentsResponse as _tollgate_v1_ListAgentsResponse, ListAgentsResponse__Output as _tollgate_v1_ListAgentsResponse__Output } from './tollgate/v1/ListAgentsResponse.js';
import type { ListCertificatesRequest as _tollgate_v1_ListCertificatesRequest, ListCertificatesRequest__Output as _tollgate_v1_ListCertificatesRequest__Output } from './tollgate/v1/ListCertificatesRequest.js';
import type { ListCertificatesResponse as _tollgate_v1_ListCertificatesResponse, ListCertificatesResponse__Output as _tollgate_v1_ListCertificatesResponse__Output } from './tollgate/v1/ListCertificatesResponse.js';
import type { Policy as _tollgate_v1_Policy, Policy__Output as _tollgate_v1_Policy__Output } from './tollgate/v1/Policy.js';
import type { PolicyDiff as _tollgate_v1_PolicyDiff, PolicyDiff__Output as _tollgate_v1_PolicyDiff__Output } from './tollgate/v1/PolicyDiff.js';
import type { PolicyDiffCall as _tollgate_v1_PolicyDiffCall, PolicyDiffCall__Output as _tollgate_v1_PolicyDiffCall__Output } from './tollgate/v1/PolicyDiffCall.js';
import type { PolicyDiffCount as _tollgate_v1_PolicyDiffCount, PolicyDiffCount__Output as _tollgate_v1_PolicyDiffCount__Output } from './tollgate/v1/PolicyDiffCount.js';
import type { PolicyExplanation as _tollgate_v1_PolicyExplanation, PolicyExplanation__Output as _tollgate_v1_PolicyExplanation__Output } from './tollgate/v1/PolicyExplanation.js';
import type { PolicyRule as _tollgate_v1_PolicyRule, PolicyRule__Output as _tollgate_v1_PolicyRule__Output } from './tollgate/v1/PolicyRule.js';
import type { PromoteShadowLimitsRequest as _tollgate_v1_PromoteShadowLimitsRequest, PromoteShadowLimitsRequest__Output as _tollgate_v1_PromoteShadowLimitsRequest__Output } from './tollgate/v1/PromoteShadowLimitsRequest.js';
import type { PromoteShadowPolicyRequest as _tollgate_v1_PromoteShadowPolicyRequest, PromoteShadowPolicyRequest__Output as _tollgate_v1_PromoteShadowPolicyRequest__Output } from './tollgate/v1/PromoteShadowPolicyRequest.js';
import type { PutAgentRequest as _tollgate_v1_PutAgentRequest, PutAgentRequest__Output as _tollgate_v1_PutAgentRequest__Output } from './tollgate/v1/PutAgentRequest.js';
import type { PutAgentResponse as _tollgate_v1_PutAgentResponse, PutAgentResponse__Output as _tollgate_v1_PutAgentResponse__Output } from './tollgate/v1/PutAgentResponse.js';
import type { RemoveAgentRequest as _tollgate_v1_RemoveAgentRequest, RemoveAgentRequest__Output as _tollgate_v1_RemoveAgentRequest__Output } from './tollgate/v1/RemoveAgentRequest.js';
import type { RemoveAgentResponse as _tollgate_v1_RemoveAgentResponse, RemoveAgentResponse__Output as _tollgate_v1_RemoveAgentResponse__Output } from './tollgate/v1/RemoveAgentResponse.js';
import type { ResetSettingsRequest as _tollgate_v1_ResetSettingsRequest, ResetSettingsRequest__Output as _tollgate_v1_ResetSettingsRequest__Output } from './tollgate/v1/ResetSettingsRequest.js';
import type { ResetSettingsResponse as _tollgate_v1_ResetSettingsResponse, ResetSettingsResponse__Output as _tollgate_v1_ResetSettingsResponse__Output } from './tollgate/v1/ResetSettingsResponse.js';
import type { RevokeRequest as _tollgate_v1_RevokeRequest, RevokeRequest__Output as _tollgate_v1_RevokeRequest__Output } from './tollgate/v1/RevokeRequest.js';
import type { RevokeResponse as _tollgate_v1_RevokeResponse, RevokeResponse__Output as _tollgate_v1_RevokeResponse__Output } from './tollgate/v1/RevokeResponse.js';
import type { RuleVerdict as _tollgate_v1_RuleVerdict, RuleVerdict__Output as _tollgate_v1_RuleVerdict__Output } from './tollgate/v1/RuleVerdict.js';
import type { SetLimitsRequest as _tollgate_v1_SetLimitsRequest, SetLimitsRequest__Output as _tollgate_v1_SetLimitsRequest__Output } from './tollgate/v1/SetLimitsRequest.js';
import type { SetPolicyRequest as _tollgate_v1_SetPolicyRequest, SetPolicyRequest__Output as _tollgate_v1_SetPolicyRequest__Output } from './tollgate/v1/SetPolicyRequest.js';
import type { WatchEventsRequest as _tollgate_v1_WatchEventsRequest, WatchEventsRequest__Output as _tollgate_v1_WatchEventsRequest__Output } from './tollgate/v1/WatchEventsRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tollgate: {
    v1: {
      Admin: SubtypeConstructor<typeof grpc.Client, _tollgate_v1_AdminClient> & { service: _tollgate_v1_AdminDefinition }
      Agent: MessageTypeDefinition<_tollgate_v1_Agent, _tollgate_v1_Agent__Output>
      AgentLimits: MessageTypeDefinition<_tollgate_v1_AgentLimits, _tollgate_v1_AgentLimits__Output>
      CallGraph: MessageTypeDefinition<_tollgate_v1_CallGraph, _tollgate_v1_CallGraph__Output>
      CancelTaskRequest: MessageTypeDefinition<_tollgate_v1_CancelTaskRequest, _tollgate_v1_CancelTaskRequest__Output>
      CancelTaskResponse: MessageTypeDefinition<_tollgate_v1_CancelTaskResponse, _tollgate_v1_CancelTaskResponse__Output>
      Certificate: MessageTypeDefinition<_tollgate_v1_Certificate, _tollgate_v1_Certificate__Output>
      ClearShadowLimitsRequest: MessageTypeDefinition<_tollgate_v1_ClearShadowLimitsRequest, _tollgate_v1_ClearShadowLimitsRequest__Output>
      ClearShadowPolicyRequest: MessageTypeDefinition<_tollgate_v1_ClearShadowPolicyRequest, _tollgate_v1_ClearShadowPolicyRequest__Output>
      CreateJoinTokenRequest: MessageTypeDefinition<_tollgate_v1_CreateJoinTokenRequest, _tollgate_v1_CreateJoinTokenRequest__Output>
      CreateJoinTokenResponse: MessageTypeDefinition<_tollgate_v1_CreateJoinTokenResponse, _tollgate_v1_CreateJoinTokenResponse__Output>
      Event: MessageTypeDefinition<_tollgate_v1_Event, _tollgate_v1_Event__Output>
      ExplainPolicyRequest: MessageTypeDefinition<_tollgate_v1_ExplainPolicyRequest, _tollgate_v1_ExplainPolicyRequest__Output>
      GetCallGraphRequest: MessageTypeDefinition<_tollgate_v1_GetCallGraphRequest, _tollgate_v1_GetCallGraphRequest__Output>
      GetLimitsDiffRequest: MessageTypeDefinition<_tollgate_v1_GetLimitsDiffRequest, _tollgate_v1_GetLimitsDiffRequest__Output>
      GetLimitsRequest: MessageTypeDefinition<_tollgate_v1_GetLimitsRequest, _tollgate_v1_GetLimitsRequest__Output>
      GetPolicyDiffRequest: MessageTypeDefinition<_tollgate_v1_GetPolicyDiffRequest, _tollgate_v1_GetPolicyDiffRequest__Output>
      GetPolicyRequest: MessageTypeDefinition<_tollgate_v1_GetPolicyRequest, _tollgate_v1_GetPolicyRequest__Output>
      Limits: MessageTypeDefinition<_tollgate_v1_Limits, _tollgate_v1_Limits__Output>
      ListAgentsRequest: MessageTypeDefinition<_tollgate_v1_ListAgentsRequest, _tollgate_v1_ListAgentsRequest__Output>
      ListAgentsResponse: MessageTypeDefinition<_tollgate_v1_ListAgentsResponse, _tollgate_v1_ListAgentsResponse__Output>
      ListCertificatesRequest: MessageTypeDefinition<_tollgate_v1_ListCertificatesRequest, _tollgate_v1_ListCertificatesRequest__Output>
      ListCertificatesResponse: MessageTypeDefinition<_tollgate_v1_ListCertificatesResponse, _tollgate_v1_ListCertificatesResponse__Output>
      Policy: MessageTypeDefinition<_tollgate_v1_Policy, _tollgate_v1_Policy__Output>
      PolicyDiff: MessageTypeDefinition<_tollgate_v1_PolicyDiff, _tollgate_v1_PolicyDiff__Output>
      PolicyDiffCall: MessageTypeDefinition<_tollgate_v1_PolicyDiffCall, _tollgate_v1_PolicyDiffCall__Output>
      PolicyDiffCount: MessageTypeDefinition<_tollgate_v1_PolicyDiffCount, _tollgate_v1_PolicyDiffCount__Output>
      PolicyExplanation: MessageTypeDefinition<_tollgate_v1_PolicyExplanation, _tollgate_v1_PolicyExplanation__Output>
      PolicyRule: MessageTypeDefinition<_tollgate_v1_PolicyRule, _tollgate_v1_PolicyRule__Output>
      PromoteShadowLimitsRequest: MessageTypeDefinition<_tollgate_v1_PromoteShadowLimitsRequest, _tollgate_v1_PromoteShadowLimitsRequest__Output>
      PromoteShadowPolicyRequest: MessageTypeDefinition<_tollgate_v1_PromoteShadowPolicyRequest, _tollgate_v1_PromoteShadowPolicyRequest__Output>
      PutAgentRequest: MessageTypeDefinition<_tollgate_v1_PutAgentRequest, _tollgate_v1_PutAgentRequest__Output>
      PutAgentResponse: MessageTypeDefinition<_tollgate_v1_PutAgentResponse, _tollgate_v1_PutAgentResponse__Output>
      RemoveAgentRequest: MessageTypeDefinition<_tollgate_v1_RemoveAgentRequest, _tollgate_v1_RemoveAgentRequest__Output>
      RemoveAgentResponse: MessageTypeDefinition<_tollgate_v1_RemoveAgentResponse, _tollgate_v1_RemoveAgentResponse__Output>
      ResetSettingsRequest: MessageTypeDefinition<_tollgate_v1_ResetSettingsRequest, _tollgate_v1_ResetSettingsRequest__Output>
      ResetSettingsResponse: MessageTypeDefinition<_tollgate_v1_ResetSettingsResponse, _tollgate_v1_ResetSettingsResponse__Output>
      RevokeRequest: MessageTypeDefinition<_tollgate_v1_RevokeRequest, _tollgate_v1_RevokeRequest__Output>
      RevokeResponse: MessageTypeDefinition<_tollgate_v1_RevokeResponse, _tollgate_v1_RevokeResponse__Output>
      RuleVerdict: MessageTypeDefinition<_tollgate_v1_RuleVerdict, _tollgate_v1_RuleVerdict__Output>
      SetLimitsRequest: MessageTypeDefinition<_tollgate_v1_SetLimitsRequest, _tollgate_v1_SetLimitsRequest__Output>
      SetPolicyRequest: MessageTypeDefinition<_tollgate_v1_SetPolicyRequest, _tollgate_v1_SetPolicyRequest__Output>
      WatchEventsRequest: MessageTypeDefinition<_tollgate_v1_WatchEventsRequest, _tollgate_v1_WatchEventsRequest__Output>
    }
  }
}

