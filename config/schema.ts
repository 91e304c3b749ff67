import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseSpiffeId, parseTrustDomain } from '../certs/spiffe-id.js';
import { CANONICAL_METHODS, canonicalMethod, type CanonicalMethod } from '../protocol/a2a-methods.js';

/**
 * The config schema: the single source of truth for config types (z.infer), validation messages and the
 * generated config reference in README (see config/docs.ts). Every object is strict: unknown keys are refused.
 * Descriptions (`.describe`) feed the reference, so keep them short and exact. The schemas are built on
 * demand (configSchemas(), at the end): a running gateway rarely needs them.
 */

const duration = (def: string, what: string) =>
  z
    .union([z.string(), z.number()])
    .default(def)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: `${what}: expected a duration like "500ms", "30s", "10m", "1h" or "7d", got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return ms;
    })
    .describe(`${what} (duration, default ${def})`);

/** 0 would switch the timeout off: refused so a typo cannot reopen the hole the timeout closes. */
const positive = (d: ReturnType<typeof duration>) => d.refine((ms) => ms > 0, { error: 'must be longer than 0' });

/** Longest timer Node keeps (setTimeout clamps anything longer to 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/** A call or stream limit: no default (absent = inherit, see timeouts), longer than 0, at most ~24 days. */
const callLimit = (what: string, zeroMeans?: string) =>
  z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: `${what}: expected a duration like "500ms", "30s", "10m", "1h" or "7d", got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      if ((ms === 0 && zeroMeans === undefined) || ms > MAX_TIMER_MS) {
        ctx.addIssue({ code: 'custom', message: `${what}: must be longer than 0 and at most 24d, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return ms;
    })
    .describe(`${what} (duration${zeroMeans === undefined ? '' : `; 0 = ${zeroMeans}`})`);

/**
 * Per-method limits: keys are A2A method names in either spelling (v0.3 `message/send` or v1.0
 * `SendMessage`), stored under the canonical v1.0 name; two spellings of one method are refused.
 */
const methodLimits = (what: string) =>
  z.record(z.string(), callLimit(what)).transform((rec, ctx) => {
    const out: Partial<Record<CanonicalMethod, number>> = {};
    const seen = new Map<CanonicalMethod, string>();
    for (const [name, ms] of Object.entries(rec)) {
      const c = canonicalMethod(name);
      if (c === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `unknown A2A method "${name}": use a v1.0 name (${CANONICAL_METHODS.join(', ')}) or its v0.3 spelling (message/send, tasks/get, ...)`,
        });
        continue;
      }
      const before = seen.get(c);
      if (before !== undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" and "${before}" both name ${c}: keep one` });
        continue;
      }
      seen.set(c, name);
      out[c] = ms;
    }
    return out;
  });

const STREAMS = 'event streams (SendStreamingMessage, SubscribeToTask)';
const UPSTREAM_TEXT =
  'time for the upstream to start its response (its headers), and for a response that is not an event stream to be complete (its body is checked as it arrives; a body that stops is cut after this long of silence). Passed before the headers: 504 naming the limit';

const hostPort = (def: string, what: string) =>
  z
    .string()
    .default(def)
    .refine((v) => /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(v) && Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, {
      error: 'expected HOST:PORT, e.g. 127.0.0.1:8443 (port 0 picks a free one)',
    })
    .describe(`${what} (HOST:PORT, default ${def})`);

/** A store URL (config `store`, --store, TOLLGATE_STORE): PostgreSQL only; absent means SQLite in the data dir. */
export const storeUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/\S+$/i, 'expected a PostgreSQL URL such as postgres://user@host:5432/tollgate (leave it out for SQLite in the data dir)');

/** Builds every schema of the config (see configSchemas). */
function buildSchemas() {
  /** agents.<name>.timeouts: every key optional; absent keys inherit from the global `timeouts`. */
  const agentTimeoutsSchema = z
    .object({
      upstream: callLimit("this agent's limit on its answers, as timeouts.upstream; default timeouts.methods.<method>, then timeouts.upstream").optional(),
      methods: methodLimits("the limit on this agent's answers to that method")
        .optional()
        .describe(
          'per A2A method (v0.3 or v1.0 name, e.g. SendMessage: 10m): the same limit as upstream for that method of this agent; wins over every other setting',
        ),
      streamIdle: callLimit(`longest silence in this agent's ${STREAMS}; default timeouts.streamIdle`, 'no idle limit for this agent').optional(),
      streamMax: callLimit(`longest this agent's ${STREAMS} may stay open; default timeouts.streamMax`, 'no total limit for this agent').optional(),
    })
    .strict();

  const spiffeIdString = z.string().transform((v, ctx) => {
    try {
      return parseSpiffeId(v).uri;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

  /** An exact SPIFFE ID, or a prefix pattern ending in "/*" (matches any ID under that path). */
  const spiffePattern = z.string().transform((v, ctx) => {
    const base = v.endsWith('/*') ? v.slice(0, -2) : v;
    try {
      const id = parseSpiffeId(base).uri;
      return v.endsWith('/*') ? `${id}/*` : id;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `${(e as Error).message} (a pattern is an exact ID or ends in "/*")` });
      return z.NEVER;
    }
  });

  const agentName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'agent names are 1-63 characters of a-z, 0-9, "_" and "-", starting with a letter or digit');

  const rate = z
    .object({
      rps: z.number().positive().describe('sustained requests per second'),
      burst: z.number().int().positive().describe('bucket size: requests allowed at once'),
    })
    .strict();

  const windowLimits = z
    .object({
      callsPerMinute: z.number().int().positive().optional().describe('calls this agent may make per minute'),
      callsPerHour: z.number().int().positive().optional().describe('calls this agent may make per hour'),
      callsPerDay: z.number().int().positive().optional().describe('calls this agent may make per day'),
      costPerDay: z.number().positive().optional().describe('cost this agent may incur per day (in `delegation.costUnit`)'),
    })
    .strict();

  /** An absolute upstream path without query, dot segments, empty segments or percent-escapes. */
  const pushPath = z
    .string()
    .regex(/^(\/[A-Za-z0-9\-_~!$&'()*+,;=:@.]+)+\/?$/, 'expected an absolute path such as /push (no query, "%", "//" or spaces)')
    .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), { error: 'the push path may not have "." or ".." segments' });

  const agentSchema = z
    .object({
      url: z
        .url()
        .refine((u) => u.startsWith('https://'), { error: 'upstream url must be https:// (the gateway forwards over mTLS)' })
        .describe("the agent's upstream base URL (https)"),
      grpc: z
        .url()
        .refine((u) => /^https:\/\/[^/?#]+\/?$/.test(u), {
          error: 'the gRPC upstream must be https://host:port with no path (the gateway forwards over h2 with mTLS)',
        })
        .optional()
        .describe("the agent's A2A gRPC endpoint (https://host:port): gRPC calls and the card's GRPC interface go through the gateway"),
      id: spiffeIdString.describe('the SPIFFE ID the upstream must present'),
      requireDelegationContext: z.boolean().default(false).describe("refuse this agent's calls unless they carry a delegation context"),
      maxRevisits: z.number().int().min(0).default(0).describe('times this agent may reappear in one delegation chain'),
      limits: windowLimits.optional().describe('per-agent call and cost windows'),
      push: pushPath
        .optional()
        .describe(
          "path on the agent's upstream origin where it receives push notifications (e.g. /push); the gateway forwards /a2a-push/<name>/<rest> there, and only there. Absent: the agent cannot receive pushes",
        ),
      timeouts: agentTimeoutsSchema
        .optional()
        .describe(
          "this agent's call limits; for a call the most specific setting wins: agents.<name>.timeouts.methods.<method>, agents.<name>.timeouts.upstream, timeouts.methods.<method>, timeouts.upstream",
        ),
    })
    .strict();

  const patterns = z.union([spiffePattern, z.array(spiffePattern).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

  /** Conditions on the signed delegation chain behind a call (who started the task, who it went through). */
  const chainCondition = z
    .object({
      initiator: patterns.optional().describe('the task must have been started by one of these SPIFFE IDs (exact or ending in /*)'),
      via: patterns
        .optional()
        .describe("one of these must be on the chain before the caller (the initiator counts): e.g. only inside the orchestrator's tasks"),
      notVia: patterns.optional().describe('none of these may be on the chain before the caller (the initiator counts)'),
      maxDepth: z
        .number()
        .int()
        .min(1)
        .max(64)
        .optional()
        .describe('the call may be at most this many hops from the initiator (1 = the initiator calls directly)'),
    })
    .strict()
    .refine((c) => c.initiator !== undefined || c.via !== undefined || c.notVia !== undefined || c.maxDepth !== undefined, {
      error: 'a chain condition needs at least one of initiator, via, notVia, maxDepth',
    });

  const policyRule = z
    .object({
      from: z.union([spiffePattern, z.array(spiffePattern).min(1)]).describe('caller SPIFFE ID(s); exact or ending in /*'),
      to: z.union([z.literal('*'), z.array(z.union([agentName, z.literal('*')])).min(1)]).describe('callee agent names, or "*"'),
      methods: z
        .array(z.string().min(1))
        .min(1)
        .optional()
        .describe('A2A methods allowed (v0.3 or v1.0 names, or PushNotification for pushes to the agents in `to`); omit for every A2A method'),
      nonA2A: z
        .boolean()
        .optional()
        .describe(
          "also allow requests that are not an A2A method (any other path on the agent, or a JSON-RPC method A2A does not define); off by default so a rule never opens an agent's other endpoints by accident",
        ),
      chain: chainCondition
        .optional()
        .describe(
          'the rule applies only when the delegation chain behind the call satisfies this (checked against the signed delegation context); refusals name the rule and the part of the chain that failed',
        ),
    })
    .strict();

  const rateLimitsSchema = z
    .object({
      perCaller: rate.optional().describe('token bucket per caller'),
      perEdge: rate.optional().describe('token bucket per caller -> callee edge'),
      maxConcurrentPerCallee: z.number().int().positive().optional().describe('in-flight calls per callee'),
    })
    .strict();

  const taskLimitsSchema = z
    .object({
      maxCalls: z.number().int().positive().default(1000).describe('calls in one root task tree'),
      maxFanOut: z.number().int().positive().default(32).describe('children of one call'),
      maxConcurrent: z.number().int().positive().default(64).describe('in-flight calls in one root task'),
      deadline: duration('15m', 'wall-clock time a root task may run'),
      maxCost: z.number().positive().optional().describe('cost one root task may incur'),
    })
    .strict();

  const delegationSchema = z
    .object({
      maxDepth: z.number().int().min(1).max(64).default(8).describe('longest delegation chain (hops)'),
      tokenTtl: duration('15m', 'lifetime of a signed delegation context'),
      costUnit: z.string().min(1).default('USD').describe('unit of the tollgate-cost response header'),
      task: taskLimitsSchema.default(taskLimitsSchema.parse({})).describe('per root task budgets'),
    })
    .strict();

  const graphSchema = z
    .object({
      recentTasks: z.number().int().positive().default(1000).describe('root tasks whose call tree is kept'),
      maxCallsPerTask: z.number().int().positive().default(2000).describe('calls recorded per task tree'),
      window: duration('5m', 'sliding window of the aggregate caller -> callee graph'),
      enforceCycles: z.boolean().default(false).describe('apply per-agent window limits at half size to agents on an aggregate cycle'),
    })
    .strict();

  const taskOwnersSchema = z
    .object({
      unknownTasks: z
        .enum(['refuse', 'forward'])
        .default('refuse')
        .describe(
          'a call naming a task the gateway has no record of (created before it, elsewhere, or its record expired): "refuse" (403 task_unknown) or "forward" (the agent must scope tasks to callers itself)',
        ),
      maxEntries: z
        .number()
        .int()
        .positive()
        .default(100_000)
        .describe('task owner records kept in one process (the oldest go first; with redis: the local cache)'),
      ttl: positive(duration('7d', 'how long the owner of a task is remembered after the task was created')),
    })
    .strict();

  const timeoutsSchema = z
    .object({
      headers: duration('10s', 'time to receive request headers'),
      idle: duration('60s', 'keep-alive idle timeout'),
      upstream: positive(duration('30s', UPSTREAM_TEXT)).refine((ms) => ms <= MAX_TIMER_MS, { error: 'must be at most 24d' }),
      methods: methodLimits('the limit on answers to that method')
        .optional()
        .describe(
          "per A2A method for every agent (v0.3 or v1.0 name, e.g. SendMessage: 10m, GetTask: 5s): the same limit as timeouts.upstream for that method; an agent's own timeouts win",
        ),
      streamIdle: callLimit(
        `longest silence in ${STREAMS} before the gateway ends the stream (an SSE error event, then a clean end); absent: a quiet stream is never cut`,
      ).optional(),
      streamMax: callLimit(`longest an event stream may stay open before the gateway ends it; absent: no limit`).optional(),
      shutdown: duration('10s', 'time in-flight calls get on SIGTERM'),
      handshake: positive(duration('10s', 'time to finish the TLS handshake on the proxy and control listeners. Restart to change')),
      controlIdle: positive(
        duration('2m', 'a control connection with no call in flight is closed (GOAWAY) after this; gRPC clients reconnect. Restart to change'),
      ),
      controlUnauthenticated: positive(
        duration(
          '30s',
          'a control connection without a verified client certificate (bootstrap, trust bundle, health probe) is closed this long after it opened. Restart to change',
        ),
      ),
    })
    .strict();

  const connectionsSchema = z
    .object({
      proxy: z
        .number()
        .int()
        .positive()
        .default(4096)
        .describe('concurrent connections on the proxy listener; more are closed on accept (capped at 1/2 of the open-file limit)'),
      controlUnauthenticated: z
        .number()
        .int()
        .positive()
        .default(128)
        .describe(
          'control connections without a verified client certificate (still in the TLS handshake, or none presented); more are closed on accept (capped at 1/8 of the open-file limit). Restart to change',
        ),
    })
    .strict();

  const caSchema = z
    .object({
      rootTtl: duration('365d', 'root CA lifetime'),
      intermediateTtl: duration('7d', 'online intermediate CA lifetime'),
      svidTtl: duration('1h', 'default SVID lifetime'),
      tokenTtl: duration('10m', 'default join token lifetime'),
    })
    .strict();

  /** Redis for governance shared by every worker and replica (fleet mode, part 2). */
  const redisSchema = z
    .object({
      url: z
        .string()
        .regex(/^rediss?:\/\/\S+$/i, 'expected a Redis URL such as redis://127.0.0.1:6379 (rediss:// for TLS)')
        .describe('the Redis server every replica shares'),
      prefix: z.string().min(1).max(64).default('tollgate:').describe('every key starts with it (several fleets on one Redis)'),
      commandTimeout: duration('250ms', 'a governance round trip slower than this fails the call closed (503)'),
      leaseTtl: duration('60s', "how long a concurrency slot survives without renewal (a dead replica's slots come back after it)"),
    })
    .strict();

  /** OpenTelemetry trace export (gateway/tracing.ts); the OTel packages are loaded only when this is set. */
  const tracingSchema = z
    .object({
      endpoint: z
        .string()
        .regex(/^https?:\/\/\S+$/i, 'expected an OTLP/HTTP traces URL such as http://127.0.0.1:4318/v1/traces')
        .describe('OTLP/HTTP (protobuf) traces endpoint, e.g. http://127.0.0.1:4318/v1/traces'),
      serviceName: z.string().min(1).default('tollgate').describe('service.name of the exported spans'),
      headers: z.record(z.string(), z.string()).default({}).describe('extra HTTP headers sent with each export (e.g. an API key)'),
      maxQueueSize: z.number().int().positive().default(2048).describe('spans waiting for export; when full, new spans are dropped (a call never waits)'),
      maxBatchSize: z.number().int().positive().default(512).describe('most spans per export request'),
      batchDelay: positive(duration('1s', 'longest a span waits before its batch is sent')),
      exportTimeout: positive(duration('10s', 'an export request slower than this is abandoned (its spans are dropped)')),
    })
    .strict()
    .refine((t) => t.maxBatchSize <= t.maxQueueSize, { error: 'tracing.maxBatchSize must not exceed tracing.maxQueueSize' });

  const configSchema = z
    .object({
      trustDomain: z
        .string()
        .default('tollgate.local')
        .transform((v, ctx) => {
          try {
            return parseTrustDomain(v);
          } catch (e) {
            ctx.addIssue({ code: 'custom', message: (e as Error).message });
            return z.NEVER;
          }
        })
        .describe('SPIFFE trust domain of this CA (default tollgate.local)'),
      dataDir: z.string().optional().describe('state directory (default ./.tollgate; --data-dir wins)'),
      store: storeUrl
        .optional()
        .describe(
          'where the durable state lives: absent = SQLite in the data dir; a postgres:// URL = a database shared by several replicas (--store and TOLLGATE_STORE win)',
        ),
      serverNames: z.array(z.string().min(1)).min(1).default(['localhost', '127.0.0.1']).describe('DNS names / IPs clients dial the gateway by'),
      listen: z
        .object({
          proxy: hostPort('127.0.0.1:8443', 'mTLS A2A gateway listener'),
          control: hostPort('127.0.0.1:8444', 'gRPC control listener (identity + admin API)'),
          metrics: hostPort('127.0.0.1:9464', 'plain HTTP /metrics and /graph listener'),
        })
        .strict()
        .default({ proxy: '127.0.0.1:8443', control: '127.0.0.1:8444', metrics: '127.0.0.1:9464' })
        .describe('listener addresses'),
      ca: caSchema.default(caSchema.parse({})).describe('built-in CA lifetimes'),
      agents: z.record(agentName, agentSchema).default({}).describe('registry: callee name -> upstream and identity'),
      policy: z.array(policyRule).default([]).describe('allow rules; everything else is denied'),
      shadowPolicy: z
        .array(policyRule)
        .optional()
        .describe(
          'rules evaluated beside `policy` without enforcing them: calls they would decide differently are counted (would_deny, would_allow) and logged; `tollgate ctl policy diff` shows them, `ctl policy promote` makes them the policy (absent: no shadow)',
        ),
      rateLimits: rateLimitsSchema.default({}).describe('token buckets and concurrency caps (omit a key to disable that limit)'),
      shadowRateLimits: rateLimitsSchema
        .optional()
        .describe(
          'rate limits evaluated beside `rateLimits` without enforcing them: calls they would refuse while `rateLimits` allows them (would_limit), or the reverse (would_allow), are counted and logged; `tollgate ctl limits diff` shows them, `ctl limits promote` makes them the rateLimits (absent: no shadow, no cost)',
        ),
      redis: redisSchema
        .optional()
        .describe('share rate limits, concurrency caps, task budgets and cancellations with every replica on Redis (absent: each process keeps its own)'),
      tracing: tracingSchema
        .optional()
        .describe('export each governed call as an OpenTelemetry span over OTLP/HTTP: one trace per root task (absent: no tracing)'),
      delegation: delegationSchema.default(delegationSchema.parse({})).describe('delegation chain limits and per root task budgets'),
      graph: graphSchema.default(graphSchema.parse({})).describe('call graph retention and cycle detection'),
      taskOwners: taskOwnersSchema
        .default(taskOwnersSchema.parse({}))
        .describe('A2A task ownership: the gateway records which caller created each task and refuses the others'),
      timeouts: timeoutsSchema.default(timeoutsSchema.parse({})).describe('listener and upstream timeouts'),
      connections: connectionsSchema
        .default(connectionsSchema.parse({}))
        .describe('connection caps: separate budgets so a flood on one listener cannot starve the other of file descriptors'),
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024)
        .describe('largest request body (bytes)'),
      // Node keeps only the first ~1,000 headers of a request and drops the rest without a word: above that a
      // limit could not be enforced, and the callee could lose the gateway's own headers.
      maxHeaders: z.number().int().min(16).max(1000).default(100).describe('most request headers a caller may send; more is refused with 431'),
      uiToken: z
        .string()
        .min(16, 'uiToken must be at least 16 characters')
        .optional()
        .describe('token required for /graph and /ui when listen.metrics is not a loopback address'),
      admins: z.array(spiffeIdString).default([]).describe('SPIFFE IDs allowed to call the admin API'),
      audit: z
        .object({
          path: z.string().min(1).optional().describe('audit log file (JSON lines); default <dataDir>/audit.log; "-" for stdout'),
          checkpointInterval: positive(duration('10s', 'how often a checkpoint signed with the gateway SVID is appended (when lines were written)')),
          rotateBytes: z
            .number()
            .int()
            .min(0)
            .default(0)
            .describe('rotate the file to <path>.<time> once it holds this many bytes; the hash chain goes on in the new file (0: never)'),
          keep: z.number().int().min(0).default(0).describe('rotated audit files kept; older ones are deleted (0: keep all)'),
        })
        .strict()
        .default({ checkpointInterval: 10_000, rotateBytes: 0, keep: 0 })
        .describe('audit log: destination, signed checkpoints, rotation (tamper-evident: `tollgate audit verify`)'),
    })
    .strict()
    .superRefine((cfg, ctx) => {
      for (const key of ['policy', 'shadowPolicy'] as const) {
        for (const [i, rule] of (cfg[key] ?? []).entries()) {
          if (rule.to === '*') continue;
          for (const [j, name] of rule.to.entries()) {
            if (name !== '*' && !(name in cfg.agents)) {
              ctx.addIssue({ code: 'custom', path: [key, i, 'to', j], message: `unknown agent "${name}": add it under agents:` });
            }
          }
        }
      }
    });

  return {
    agentSchema,
    chainCondition,
    policyRule,
    rateLimitsSchema,
    taskLimitsSchema,
    delegationSchema,
    graphSchema,
    taskOwnersSchema,
    timeoutsSchema,
    connectionsSchema,
    caSchema,
    spiffeIdString,
    spiffePattern,
    configSchema,
  };
}

/** Every schema of the config: the whole file (configSchema) and the parts the admin API validates alone. */
export type ConfigSchemas = ReturnType<typeof buildSchemas>;

let built: WeakRef<ConfigSchemas> | undefined;

/**
 * The config schemas, built on demand rather than at import. Built, they are ~630 zod objects holding
 * ~0.7 MB of heap (more once zod has compiled their parsers), and a running gateway needs them only when its
 * config changes: at start, on SIGHUP, on an admin write, when another replica saved a section. The uses of
 * one moment share one build through the WeakRef; afterwards the garbage collector takes it back
 * (docs/performance.md "Session 6"). A build takes ~10-25 ms on the 2-core VM.
 */
export function configSchemas(): ConfigSchemas {
  let s = built?.deref();
  if (s === undefined) built = new WeakRef((s = buildSchemas()));
  return s;
}

export type Config = z.infer<ConfigSchemas['configSchema']>;
export type AgentConfig = z.infer<ConfigSchemas['agentSchema']>;
export type PolicyRule = z.infer<ConfigSchemas['policyRule']>;
export type RateLimits = z.infer<ConfigSchemas['rateLimitsSchema']>;
export type ChainCondition = z.infer<ConfigSchemas['chainCondition']>;
/** A chain condition with the index of its policy rule (refusals name the rule). */
export type ChainRule = ChainCondition & { readonly rule: number };
