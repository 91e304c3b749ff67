import type { AgentConfig, Config } from '../config/schema.js';
import { parseSpiffeId } from '../certs/index.js';
import { compilePolicy, type Grants, type Policy } from './policy.js';
import { Limiter } from './ratelimit/limiter.js';
import type { Upstream, UpstreamSpec } from './upstream/engine.js';
import type { GrpcUpstream } from './upstream/grpc.js';
import { compileAgentTimeouts, type AgentTimeouts } from './timeouts.js';
import { compileShadow, type ShadowDiffs, type ShadowPolicy } from './shadow.js';
import { compileShadowLimits, type LimitsShadowVerdict, type ShadowLimits } from './ratelimit/shadow.js';

/**
 * Everything the request path needs, built once when a config loads (or reloads): the agent registry in
 * maps, the compiled policy, the rate limiter, one upstream pool per agent. A request reads the runtime
 * it started with, so a reload never changes a call halfway through.
 */
export interface CompiledAgent {
  readonly name: string;
  readonly config: AgentConfig;
  readonly spec: UpstreamSpec;
  /** upstream base path without trailing '/' ('' for the root) */
  readonly basePath: string;
  /** where the agent receives pushes (config `push`, without trailing '/'), and its lower-case form; undefined: none */
  readonly pushPath: string | undefined;
  readonly pushPathLower: string | undefined;
  /** replaced in place when the gateway's credentials rotate */
  upstream: Upstream;
  /** the agent's gRPC endpoint (agents.<name>.grpc), when it has one */
  readonly grpcSpec: UpstreamSpec | undefined;
  /** its h2 session pool (proxy/upstream/grpc.ts); replaced like `upstream` */
  grpc: GrpcUpstream | undefined;
  /** the call limits of each method (timeouts.ts), resolved here once */
  readonly timeouts: AgentTimeouts;
}

/** What a reload retires: an HTTP/1.1 pool or a gRPC session pool. */
export interface Closable {
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export interface Runtime {
  readonly gen: number;
  readonly config: Config;
  readonly agents: ReadonlyMap<string, CompiledAgent>;
  readonly agentNameById: ReadonlyMap<string, string>;
  readonly policy: Policy;
  /** the shadow rules (config shadowPolicy), compared with the policy in the authorize stage; undefined: none */
  readonly shadow: ShadowPolicy | undefined;
  readonly limiter: Limiter;
  /** the shadow rate limits (config shadowRateLimits), asked beside `limiter` and never enforced; undefined: none */
  readonly shadowLimits: ShadowLimits | undefined;
  /** is `name` a registered agent (built once: the route stage calls it per request) */
  readonly hasAgent: (name: string) => boolean;
}

let gens = 0;

function specOf(name: string, a: AgentConfig): { spec: UpstreamSpec; basePath: string } {
  const u = new URL(a.url);
  const basePath = u.pathname.replace(/\/+$/, '');
  return { spec: { name, origin: u.origin, id: a.id, trustDomain: parseSpiffeId(a.id).trustDomain }, basePath };
}

const sameSpec = (a: UpstreamSpec, b: UpstreamSpec) => a.origin === b.origin && a.id === b.id && a.trustDomain === b.trustDomain;

/**
 * Compile `config`. Upstream pools of agents whose origin and identity did not change are kept (their
 * keep-alive connections survive a reload); the others are returned in `retired` for the caller to drain.
 */
export function compileRuntime(
  config: Config,
  previous: Runtime | undefined,
  open: (spec: UpstreamSpec) => Upstream,
  openGrpc?: (spec: UpstreamSpec) => GrpcUpstream,
  shadowDiffs?: ShadowDiffs,
  limitsDiffs?: ShadowDiffs<LimitsShadowVerdict>,
): { runtime: Runtime; retired: Closable[] } {
  const policy = compilePolicy(config.policy, Object.keys(config.agents)); // throws ProxyError on a bad method name
  const shadow = compileShadow(config.shadowPolicy, Object.keys(config.agents), shadowDiffs);
  const agents = new Map<string, CompiledAgent>();
  const agentNameById = new Map<string, string>();
  const kept = new Set<Closable>();
  for (const [name, a] of Object.entries(config.agents)) {
    const { spec, basePath } = specOf(name, a);
    const prev = previous?.agents.get(name);
    let upstream: Upstream;
    if (prev && sameSpec(prev.spec, spec)) {
      upstream = prev.upstream;
      kept.add(upstream);
    } else {
      upstream = open(spec);
    }
    const grpcSpec = a.grpc === undefined ? undefined : { ...spec, origin: new URL(a.grpc).origin };
    let grpc: GrpcUpstream | undefined;
    if (grpcSpec !== undefined && openGrpc !== undefined) {
      if (prev?.grpc !== undefined && prev.grpcSpec !== undefined && sameSpec(prev.grpcSpec, grpcSpec)) {
        grpc = prev.grpc;
        kept.add(grpc);
      } else {
        grpc = openGrpc(grpcSpec);
      }
    }
    const pushPath = a.push === undefined ? undefined : a.push.replace(/\/+$/, '');
    agents.set(name, {
      name,
      config: a,
      spec,
      basePath,
      pushPath,
      pushPathLower: pushPath?.toLowerCase(),
      upstream,
      grpcSpec,
      grpc,
      timeouts: compileAgentTimeouts(name, a, config.timeouts),
    });
    agentNameById.set(a.id, name);
  }
  const retired: Closable[] = [];
  for (const a of previous?.agents.values() ?? []) {
    if (!kept.has(a.upstream)) retired.push(a.upstream);
    if (a.grpc !== undefined && !kept.has(a.grpc)) retired.push(a.grpc);
  }
  // Keep bucket state across reloads when the limits did not change (a reload must not hand out a fresh burst).
  const limiter =
    previous && JSON.stringify(previous.config.rateLimits) === JSON.stringify(config.rateLimits) ? previous.limiter : new Limiter(config.rateLimits);
  const shadowLimits = compileShadowLimits(config.shadowRateLimits, previous?.shadowLimits, previous?.config.shadowRateLimits, limitsDiffs);
  const hasAgent = (name: string) => agents.has(name);
  return { runtime: { gen: ++gens, config, agents, agentNameById, policy, shadow, limiter, shadowLimits, hasAgent }, retired };
}

/** The bounded caller label: agent name, 'external' (matched a policy rule) or 'unknown'. */
export function callerLabel(rt: Runtime, callerId: string, grants: Grants): string {
  return rt.agentNameById.get(callerId) ?? (grants.known ? 'external' : 'unknown');
}
