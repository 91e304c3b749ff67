/**
 * The mTLS A2A gateway (data plane). See pipeline.ts for the request path.
 */
export { startProxy, type ProxyOptions, type ProxyHandle } from './server.js';
export { createMetrics, type GatewayMetrics, type MetricsOptions } from './metrics.js';
export { startMetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { createAuditLog, type AuditLog, type AuditRecord, type AuditDecision, type AuditLogOptions } from './audit.js';
export type { Governance } from './governance.js';
export { Exchange } from './exchange.js';
export { TaskCalls, type TaskCallsOptions, type CancelSent, type CancelOutcome } from './task-calls.js';
export { ProxyError, RPC_CODE, refusal, refusalBody, type Refusal, type ProxyErrorCode } from './errors.js';
export type { Revocation } from './stages/identity.js';
export { limitRefusal } from './stages/limits.js';
export { canonicalMethod, CANONICAL_METHODS, AGENT_CARD_METHOD, type CanonicalMethod } from './a2a/methods.js';
export type { UpstreamFactory, Upstream, UpstreamSpec, EngineOptions, ForwardJob } from './upstream/engine.js';
export { CARD_SIGNING_PURPOSE, JWKS_PATH } from './a2a/card-signing.js';
export { LruTaskOwners, TieredTaskOwners, type TaskOwners } from './a2a/task-owners.js';
