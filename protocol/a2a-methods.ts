/**
 * The A2A method names, as the wire spells them: v1.0 JSON-RPC/gRPC names (SendMessage) are canonical;
 * v0.3 JSON-RPC names (message/send) and v0.3 gRPC spellings map to them. Shared by the config schema
 * (method names in timeouts), the policy and the proxy's method extraction (proxy/a2a/methods.ts).
 */
export const CANONICAL_METHODS = [
  'SendMessage',
  'SendStreamingMessage',
  'GetTask',
  'ListTasks',
  'CancelTask',
  'SubscribeToTask',
  'CreateTaskPushNotificationConfig',
  'GetTaskPushNotificationConfig',
  'ListTaskPushNotificationConfigs',
  'DeleteTaskPushNotificationConfig',
  'GetExtendedAgentCard',
] as const;
export type CanonicalMethod = (typeof CANONICAL_METHODS)[number];

export const METHOD_ALIASES: Readonly<Record<string, CanonicalMethod>> = {
  'message/send': 'SendMessage',
  'message/stream': 'SendStreamingMessage',
  'tasks/get': 'GetTask',
  'tasks/cancel': 'CancelTask',
  'tasks/resubscribe': 'SubscribeToTask',
  'tasks/pushNotificationConfig/set': 'CreateTaskPushNotificationConfig',
  'tasks/pushNotificationConfig/get': 'GetTaskPushNotificationConfig',
  'tasks/pushNotificationConfig/list': 'ListTaskPushNotificationConfigs',
  'tasks/pushNotificationConfig/delete': 'DeleteTaskPushNotificationConfig',
  'agent/getAuthenticatedExtendedCard': 'GetExtendedAgentCard',
  // v0.3 gRPC spellings that differ from v1.0
  TaskSubscription: 'SubscribeToTask',
  ListTaskPushNotificationConfig: 'ListTaskPushNotificationConfigs',
  GetAgentCard: 'GetExtendedAgentCard',
};

/** Every accepted spelling -> its canonical name. */
export const METHOD_NAMES: ReadonlyMap<string, CanonicalMethod> = (() => {
  const m = new Map<string, CanonicalMethod>();
  for (const c of CANONICAL_METHODS) m.set(c, c);
  for (const [k, v] of Object.entries(METHOD_ALIASES)) if (!m.has(k)) m.set(k, v);
  return m;
})();

/** Canonical name of a v0.3 or v1.0 method name; undefined when it is not an A2A method. */
export function canonicalMethod(name: string): CanonicalMethod | undefined {
  return METHOD_NAMES.get(name);
}

/** The methods whose answer is an event stream. */
export function isStreamingMethod(m: string): boolean {
  return m === 'SendStreamingMessage' || m === 'SubscribeToTask';
}
