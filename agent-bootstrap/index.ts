/**
 * tollgate/agent-bootstrap: what an agent imports to get, keep and use its SPIFFE identity.
 *
 *   const m = await bootstrap({ server: '127.0.0.1:8444', token, fingerprint, outDir: './identity' });
 *   const identity = (await AgentIdentity.fromDir('./identity', { server: '127.0.0.1:8444' })).start();
 *   const fetch = createMtlsFetch(identity, { expectedServerId: 'spiffe://tollgate.local/tollgate/gateway' });
 *   await createAgentServer(app, identity, { allowedCallers: ['spiffe://tollgate.local/tollgate/gateway'], port: 9001 });
 *   // tasks per caller: the SDK's handlers with userBuilder: spiffeUserBuilder({ gatewayId: 'spiffe://tollgate.local/tollgate/gateway' })
 */
export { bootstrap, renew, pinnedRoot, type BootstrapOptions } from './bootstrap.js';
export { AgentIdentity, type AgentIdentityOptions } from './identity.js';
export { createMtlsFetch, chainFromPeerCertificate, type MtlsFetch, type MtlsFetchOptions } from './mtls-fetch.js';
export { createAgentServer, callerMatcher, gatewayHeadersProblem, peerOf, type AgentServer, type AgentServerOptions, type RequestHandler } from './server.js';
export {
  MtlsPushNotificationSender,
  pushReceiver,
  pushSender,
  pushCallbackUrl,
  PUSH_HEADER,
  PUSH_METHOD,
  PUSH_ROUTE_PREFIX,
  type MtlsPushSenderOptions,
  type PushReceiverOptions,
  type ReceivedPush,
} from './push.js';
export { spiffeUserBuilder, callerFromXfcc, callerUser, type CallerUser, type SpiffeUserBuilderOptions } from './user.js';
export { RevocationFeed, type RevocationView, type RevocationFeedOptions } from './revocations.js';
export {
  currentDelegation,
  runWithDelegation,
  delegationFromHeaders,
  withScope,
  scopeHeader,
  DELEGATION_HEADER,
  TRACEPARENT_HEADER,
  SCOPE_HEADER,
  type DelegationContext,
  type DelegationScope,
} from './delegation.js';
export { readIdentityFiles, writeIdentityFiles, KEY_FILE, CERT_FILE, BUNDLE_FILE } from './files.js';
export { toMaterial, type SvidMaterial } from './material.js';
export { newKeyAndCsr } from './keys.js';
export { retryDelay, renewalDelay, renewalTime, type RetryPolicy, type RenewalPlan, type RenewalTiming } from '../certs/rotation.js';
export { BootstrapError, type BootstrapErrorCode } from './errors.js';
