import { shortName } from '../../certs/spiffe-id.js';
import type { Config } from '../../config/schema.js';
import { CallGraph } from '../graph/call-graph.js';
import { TaskTrees, allowedCallRecord, type A2aIds, type CallRecord, type LoopCut } from '../graph/tree.js';
import type { GraphEvent } from '../graph/feed.js';
import { errorKindOf, isFailure } from '../graph/outcome.js';
import { decide, refusalForVerify, verifyContext, type DelegationLimits, type VerifyResult } from './decide.js';
import { callIdFactory, random16 } from './ids.js';
import type { KeyRing } from './keys.js';
import { budgetOf, type Refusal } from './refusals.js';
import { TaskRegistry, type CallState } from './tasks.js';
import { DELEGATION_HEADER, issueContext, type DelegationContext } from './token.js';
import { IssuedContexts } from './issued.js';
import { nextTraceparent } from './traceparent.js';
import { AgentWindows, halveLimits, type AgentLimits } from './windows.js';
import { parseScopeHeader, SCOPE_HEADER, type Scope } from './scope.js';
import { checkChain } from './chain-policy.js';
import { refuse } from './refusals.js';
import type { ChainRule } from '../../config/schema.js';
import { decidePush } from './push.js';
import { PUSH_METHOD } from '../../protocol/push.js';

/**
 * The delegation stage: the adapter between the gateway pipeline and the pure parts (verifyContext, decide,
 * the task registry, the call graph).
 *
 * Contract with the gateway (order matters); it plugs in as the proxy's governance slot:
 *  - beforeForward(call) runs as the LAST stage that can refuse, just before forwarding: it commits budgets
 *    (calls, in-flight, fan-out, agent windows). It returns a Refusal to send, or undefined and has set the
 *    outbound `tollgate-delegation` (a fresh signed context, never the inbound one) and `traceparent` headers.
 *  - onResponse(call) when the upstream's response headers arrive: charges `tollgate-cost` (a stream may run
 *    long; the call has not ended).
 *  - onComplete(call) exactly when an allowed call ends — response complete, stream ended, upstream error or
 *    client abort. onFinished(call, status) is the same with an explicit status (0 for "no response"); both
 *    are idempotent.
 *  - onRefused(call, refusal) for a refusal by ANY stage: it records refusals made before this stage ran
 *    (aggregate graph only) and undoes an allowed call refused by a later stage. For this stage's own
 *    refusals it does nothing (beforeForward already recorded them), so calling it for every refusal is fine.
 *  - Metrics hooks: refusal() fires for this stage's refusals only (other stages count their own).
 *  - callerId / calleeId must be canonical SPIFFE IDs (parseSpiffeId(..).uri), as config/schema.ts stores them.
 *  - Call tick() from a timer (every few seconds): it sweeps expired tasks and stale graph buckets (so the
 *    request path never does) and prunes retired keys.
 *
 * graph.enforceCycles: when true, a caller whose SPIFFE ID is on a live cycle of the aggregate graph (which
 * catches loops between agents that drop the delegation header) gets its agents.<name>.limits halved
 * (calls floor(n/2), at least 1; costPerDay / 2) until the cycle leaves the window. Agents without limits are
 * not affected: give agents limits to make this bite.
 */
/**
 * What governance reads and writes of one call. The proxy's exchange (proxy/exchange.ts) is one; tests and
 * the benchmark build plain objects.
 */
export interface GovernedCall {
  readonly callerId: string;
  /** the caller's agent name if it is a registered agent (looked up by SPIFFE ID when undefined) */
  readonly callerAgent: string | undefined;
  /** callee agent name */
  readonly callee: string;
  readonly calleeId: string;
  readonly method: string;
  /** set when only policy rules with a chain condition allow the call: the chain must satisfy one (chain-policy.ts) */
  readonly chainRules?: readonly ChainRule[] | undefined;
  /** HTTP status the caller got (set when the upstream answered or the call ended; 0 before) */
  readonly status: number;
  /** set when the upstream failed or the caller went away */
  readonly error: string | undefined;
  /** an inbound request header (first value), e.g. `tollgate-delegation`, `traceparent` */
  header(name: string): string | undefined;
  /** an upstream response header (repeated values joined with ", "), once the response headers arrived */
  responseHeader(name: string): string | undefined;
  setUpstreamHeader(name: string, value: string): void;
  /** the slot this stage keeps its per-call state in (a DelegationCallHandle); nobody else reads it */
  governance: unknown;
  /** the A2A task the call names, or (once it ended) the one its answer created; '' or absent: none */
  readonly taskId?: string;
  /** the A2A context of that call or task */
  readonly contextId?: string;
}

export interface DelegationCallHandle {
  readonly callId: string;
  /** the calling hop: the call in which the caller was called (from the verified context) */
  readonly parentCallId: string | undefined;
  readonly rootTaskId: string | undefined;
  readonly startedAt: number;
  readonly traceId: string | undefined;
  /** present for allowed calls */
  readonly call: CallState | undefined;
  /** the call's record in its task's tree, when stored there (allowed calls): finished without lookups */
  readonly record: CallRecord | undefined;
  /** refused by this stage */
  readonly refused: boolean;
  finished: boolean;
}

export interface DelegationMetrics {
  refusal(caller: string, callee: string, reason: string): void;
  loopCut(caller: string, callee: string): void;
  cycles(n: number): void;
  budgetExhausted(scope: string, budget: string): void;
  cost(agent: string, amount: number): void;
  /** a `tollgate-cost` header that was not a non-negative finite number (ignored) */
  invalidCost?(callee: string): void;
}

export interface DelegationStageOptions {
  config: Config;
  keyring: KeyRing;
  now: () => number;
  metrics?: DelegationMetrics;
  log?: { warn(obj: object, msg: string): void };
  /** most root tasks whose budget state is tracked (default max(10 x graph.recentTasks, 10000)) */
  maxTasks?: number;
  /** see TaskRegistry: adopt tasks started by another process, before a restart or on another replica (default true) */
  adoptAfterRestart?: boolean;
  /** how many recently issued contexts are recognised without a MAC check (issued.ts; default 4096) */
  issuedCapacity?: number;
  /**
   * told every change this stage makes to the call graph, as a plain event (governance/graph/feed.ts): how
   * other workers and replicas come to show the same graph. Absent: nothing is built per call for it.
   */
  feed?: (e: GraphEvent) => void;
  /** canonical name of an A2A method (v0.3 or v1.0 spelling), undefined for others: methods in a `tollgate-scope` header */
  canonicalMethod?: (name: string) => string | undefined;
  /**
   * the span id of a call, when the gateway exports spans (gateway/tracing.ts): the outbound `traceparent`
   * then names the call's own span. Absent: a random span id, as before.
   */
  spanIdOf?: (callId: string) => string;
}

export const COST_HEADER = 'tollgate-cost';
/** metric label for callers that are not registered agents (users, front ends): keeps label cardinality bounded */
export const UNREGISTERED = 'unregistered';

interface AgentEntry {
  name: string;
  requireDelegationContext: boolean;
  maxRevisits: number;
  limits: AgentLimits | undefined;
  halved: AgentLimits | undefined;
}

interface Built {
  byId: Map<string, AgentEntry>;
  byName: Map<string, AgentEntry>;
  limits: DelegationLimits;
  enforceCycles: boolean;
}

function build(config: Config): Built {
  const byId = new Map<string, AgentEntry>();
  const byName = new Map<string, AgentEntry>();
  for (const [name, a] of Object.entries(config.agents)) {
    const e: AgentEntry = {
      name,
      requireDelegationContext: a.requireDelegationContext,
      maxRevisits: a.maxRevisits,
      limits: a.limits,
      halved: a.limits && halveLimits(a.limits),
    };
    byName.set(name, e);
    if (!byId.has(a.id)) byId.set(a.id, e);
  }
  const d = config.delegation;
  return {
    byId,
    byName,
    limits: {
      maxDepth: d.maxDepth,
      tokenTtlMs: d.tokenTtl,
      maxCalls: d.task.maxCalls,
      maxFanOut: d.task.maxFanOut,
      maxConcurrent: d.task.maxConcurrent,
      deadlineMs: d.task.deadline,
      maxCost: d.task.maxCost,
    },
    enforceCycles: config.graph.enforceCycles,
  };
}

const COST_NUMBER = /^\s*(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A `tollgate-cost` value: a non-negative finite decimal number, else undefined. */
export function parseCost(v: string | string[] | null | undefined): number | undefined {
  if (typeof v !== 'string' || !COST_NUMBER.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function handleOf(call: GovernedCall): DelegationCallHandle | undefined {
  return call.governance as DelegationCallHandle | undefined;
}

/** 32 hex digits from a 22-character base64url root task id: a task's calls share one trace id. */
function traceIdOf(rootTaskId: string): string | undefined {
  const b = Buffer.from(rootTaskId, 'base64url');
  return b.length === 16 ? b.toString('hex') : undefined;
}

export class DelegationStage {
  readonly graph: CallGraph;
  readonly tasks: TaskRegistry;
  readonly windows = new AgentWindows();
  /** contexts signed here recently: their return trip costs no MAC (issued.ts) */
  readonly issued: IssuedContexts;
  private built: Built;
  private readonly keyring: KeyRing;
  private readonly now: () => number;
  private readonly metrics?: DelegationMetrics;
  private readonly log?: { warn(obj: object, msg: string): void };
  private readonly nextCallId = callIdFactory();
  private readonly explicitMaxTasks: number | undefined;
  private readonly feed: ((e: GraphEvent) => void) | undefined;
  private readonly canonicalMethod: (name: string) => string | undefined;
  private readonly spanIdOf: ((callId: string) => string) | undefined;
  readonly counters = { invalidCostHeaders: 0, lateCosts: 0 };
  /** hex of the root task id minted by the current beforeForward (its trace id), set by mintRootTaskId */
  private rootHex: string | undefined;
  /**
   * This process's root task ids start with these 6 bytes (8 base64url characters; the top bit clear, so no
   * id starts with '-' or '_': operators paste ids into command lines). A task whose id does not was started
   * by another process (a restart, another replica) and is adopted; one that does and is gone was evicted
   * here and fails closed (tasks.ts).
   */
  private readonly taskPrefix = Buffer.from(random16().subarray(0, 6));
  private readonly taskPrefixText: string;
  /**
   * Root task id (the prefix, then 80 random bits; base64url) for decide(); keeps the hex of the same bits,
   * so the trace id of a new task is not decoded back from the id (one allocation less per new task). Built once.
   */
  private readonly mintRootTaskId = (): string => {
    const b = random16();
    this.taskPrefix.copy(b, 0);
    this.rootHex = b.toString('hex');
    return b.toString('base64url');
  };

  constructor(opts: DelegationStageOptions) {
    this.taskPrefix[0] &= 0x7f;
    this.taskPrefixText = this.taskPrefix.toString('base64url');
    this.keyring = opts.keyring;
    this.issued = new IssuedContexts(opts.issuedCapacity ?? 4096);
    this.now = opts.now;
    this.metrics = opts.metrics;
    this.log = opts.log;
    this.built = build(opts.config);
    this.explicitMaxTasks = opts.maxTasks;
    this.feed = opts.feed;
    this.canonicalMethod = opts.canonicalMethod ?? ((m: string) => m);
    this.spanIdOf = opts.spanIdOf;
    const g = opts.config.graph;
    this.graph = new CallGraph({
      recentTasks: g.recentTasks,
      maxCallsPerTask: g.maxCallsPerTask,
      windowMs: g.window,
      costUnit: opts.config.delegation.costUnit,
      nameOf: this.nameOf,
      onCycle: (ids, names) => this.log?.warn({ cycle: names, ids }, `call graph cycle: ${names.join(' -> ')}`),
      onCyclesChanged: (n) => this.metrics?.cycles(n),
    });
    this.tasks = new TaskRegistry({
      maxTasks: opts.maxTasks ?? Math.max(10 * g.recentTasks, 10_000),
      bootAt: opts.now(),
      ownTask: (id) => id.startsWith(this.taskPrefixText),
      adoptAfterRestart: opts.adoptAfterRestart,
      windows: this.windows,
      onCost: (root, callId, parent, amount) => {
        this.graph.trees.addCost(root, callId, parent, amount);
        if (this.feed) this.feed({ k: 'cost', root, call: callId, parent, amount });
      },
    });
    this.keyring.setRetention(opts.config.delegation.tokenTtl);
    // bound, so the pipeline may pass them around as plain functions
    for (const m of ['beforeForward', 'onResponse', 'onComplete', 'onFinished', 'onRefused', 'cancelTask', 'reloadConfig', 'tick'] as const) {
      (this as Record<string, unknown>)[m] = this[m].bind(this);
    }
  }

  /** Display name of a SPIFFE ID: the agent's name from config, else the last path segment. */
  readonly nameOf = (id: string): string => this.built.byId.get(id)?.name ?? this.shortOf(id);

  /**
   * shortName(id), remembered for the last ID asked: the call trees keep the name of each task's initiator
   * and of each call's caller, and slicing it out for every call kept one more string per tree and record.
   */
  private shortOf(id: string): string {
    if (id !== this.lastShortId) {
      this.lastShortId = id;
      this.lastShort = shortName(id);
    }
    return this.lastShort;
  }
  private lastShortId = '';
  private lastShort = '';

  reloadConfig(config: Config): void {
    this.built = build(config);
    this.keyring.setRetention(config.delegation.tokenTtl);
    this.tasks.setMaxTasks(this.explicitMaxTasks ?? Math.max(10 * config.graph.recentTasks, 10_000));
    this.graph.reconfigure({
      recentTasks: config.graph.recentTasks,
      maxCallsPerTask: config.graph.maxCallsPerTask,
      windowMs: config.graph.window,
      costUnit: config.delegation.costUnit,
    });
  }

  /**
   * The verified delegation chain behind a call (initiator .. caller; [caller] without a context), or
   * undefined when its context does not verify. Read-only: for the shadow policy (proxy/shadow.ts), which
   * compares chain conditions without deciding the call.
   */
  chainOf(ctx: GovernedCall): readonly string[] | undefined {
    const inbound = ctx.header(DELEGATION_HEADER);
    if (inbound === undefined) return [ctx.callerId];
    const v = verifyContext(inbound, ctx.callerId, this.now(), this.keyring, this.issued);
    return v.ok ? v.context.chain : undefined;
  }

  /** The caller's `tollgate-delegation` context, verified; undefined when it sent none. */
  private verifyInbound(ctx: GovernedCall, now: number): VerifyResult | undefined {
    const token = ctx.header(DELEGATION_HEADER);
    return token === undefined ? undefined : verifyContext(token, ctx.callerId, now, this.keyring, this.issued);
  }

  /** Returns a refusal to send, or undefined (outbound headers set, budgets committed). */
  beforeForward(ctx: GovernedCall): Refusal | undefined {
    if (ctx.method === PUSH_METHOD) return this.beforePush(ctx);
    const now = this.now();
    const b = this.built;
    const v = this.verifyInbound(ctx, now);
    if (v !== undefined && !v.ok) return this.refused(ctx, refusalForVerify(v), undefined, now);
    const context = v?.context;
    let scope: Scope | undefined;
    const asked = ctx.header(SCOPE_HEADER);
    if (asked !== undefined) {
      const p = parseScopeHeader(asked, now, this.canonicalMethod);
      if (!p.ok) return this.refused(ctx, refuse('scope_malformed', p.message), context, now);
      scope = p.scope;
    }
    const callerAgent = b.byId.get(ctx.callerId);
    const callerName = ctx.callerAgent ?? callerAgent?.name;
    const task = context && this.tasks.resolve(context.rootTaskId, context.chain[0], context.rootStartedAt, b.limits.deadlineMs, b.limits.tokenTtlMs, now);
    let windows;
    if (callerAgent?.limits) {
      // graph.enforceCycles: an agent on a live aggregate cycle gets half its window limits
      const limits = b.enforceCycles && this.graph.aggregate.isOnCycle(ctx.callerId) ? callerAgent.halved : callerAgent.limits;
      windows = this.windows.check(callerAgent.name, limits, now);
    }
    const callId = this.nextCallId();
    this.rootHex = undefined;
    const d = decide({
      now,
      context,
      caller: { id: ctx.callerId, name: callerName, requireDelegationContext: callerAgent?.requireDelegationContext ?? false },
      callee: { name: ctx.callee, id: ctx.calleeId, maxRevisits: b.byName.get(ctx.callee)?.maxRevisits ?? 0 },
      limits: b.limits,
      task,
      parentFanOut: task && context ? this.tasks.fanOutOf(task, context.callId) : 0,
      windows,
      newCallId: callId,
      newRootTaskId: this.mintRootTaskId,
      method: ctx.method,
      chainRules: ctx.chainRules,
      scope,
    });
    if (!d.allow) return this.refused(ctx, d.refusal, context, now, callId);

    const child = d.child;
    const t = d.newRoot ? this.tasks.startRoot(child.rootTaskId, ctx.callerId, now, b.limits.deadlineMs) : task!;
    const parentCallId = context?.callId;
    const call = this.tasks.beginCall(t, callId, parentCallId, callerAgent?.name, child.expiresAt, now);
    const issued = issueContext(child, this.keyring.current());
    this.issued.remember(issued.token, issued.mac, issued.context);
    ctx.setUpstreamHeader(DELEGATION_HEADER, issued.token);
    const trace = nextTraceparent(
      ctx.header('traceparent'),
      d.newRoot && this.rootHex !== undefined ? this.rootHex : traceIdOf(child.rootTaskId),
      this.spanIdOf?.(callId),
    );
    ctx.setUpstreamHeader('traceparent', trace.header);

    // a new root task has no tree yet: create it without looking it up
    const trees = this.graph.trees;
    const initiatorName = this.nameOf(t.initiator);
    const tree = d.newRoot
      ? trees.create(t.rootTaskId, t.initiator, initiatorName, t.startedAt)
      : trees.ensure(t.rootTaskId, t.initiator, initiatorName, t.startedAt);
    const record = allowedCallRecord(
      callId,
      parentCallId,
      ctx.callerId,
      callerName ?? this.shortOf(ctx.callerId),
      ctx.calleeId,
      ctx.callee,
      ctx.method,
      child.depth,
      now,
      trace.traceId,
    );
    if (ctx.taskId) record.taskId = ctx.taskId;
    if (ctx.contextId) record.contextId = ctx.contextId;
    const stored = trees.add(tree, record);
    this.graph.aggregate.recordCall(ctx.callerId, ctx.calleeId, now);
    if (this.feed) this.feed({ k: 'call', task: { root: t.rootTaskId, initiator: t.initiator, initiatorName, rootStart: t.startedAt }, rec: record });
    ctx.governance = {
      callId,
      parentCallId,
      rootTaskId: t.rootTaskId,
      startedAt: now,
      traceId: trace.traceId,
      call,
      record: stored ? record : undefined,
      refused: false,
      finished: false,
    };
    return undefined;
  }

  /**
   * A push notification (push.ts decidePush): counted against the task named by the sender's context and
   * recorded in its tree as a child of the sender's call; no context is issued to the receiver (a push is a
   * report, not a delegation). Without a context it is recorded in the aggregate graph only.
   */
  private beforePush(ctx: GovernedCall): Refusal | undefined {
    const now = this.now();
    const b = this.built;
    const v = this.verifyInbound(ctx, now);
    if (v !== undefined && !v.ok) return this.refused(ctx, refusalForVerify(v), undefined, now);
    const context = v?.context;
    // a push only a chain rule allows is checked like a call (a push is a report, so a delegated scope does
    // not apply: it goes back towards whoever set the scope)
    if (ctx.chainRules !== undefined) {
      const r = checkChain(ctx.chainRules, context ? context.chain : [ctx.callerId], ctx.callee);
      if (r !== undefined) return this.refused(ctx, r, context, now);
    }
    const callerAgent = b.byId.get(ctx.callerId);
    const callerName = ctx.callerAgent ?? callerAgent?.name;
    const task = context && this.tasks.resolve(context.rootTaskId, context.chain[0], context.rootStartedAt, b.limits.deadlineMs, b.limits.tokenTtlMs, now);
    const windows = callerAgent?.limits ? this.windows.check(callerAgent.name, callerAgent.limits, now) : undefined;
    const d = decidePush({
      now,
      context,
      caller: { id: ctx.callerId, name: callerName, requireDelegationContext: callerAgent?.requireDelegationContext ?? false },
      limits: b.limits,
      task,
      windows,
    });
    const callId = this.nextCallId();
    if (!d.allow) return this.refused(ctx, d.refusal, context, now, callId);
    const trace = nextTraceparent(ctx.header('traceparent'), context && traceIdOf(context.rootTaskId));
    ctx.setUpstreamHeader('traceparent', trace.header);
    const record = allowedCallRecord(
      callId,
      context?.callId,
      ctx.callerId,
      callerName ?? this.shortOf(ctx.callerId),
      ctx.calleeId,
      ctx.callee,
      ctx.method,
      context === undefined ? 1 : context.depth + 1,
      now,
      trace.traceId,
    );
    let call: CallState | undefined;
    let stored = false;
    if (context !== undefined && task !== undefined) {
      call = this.tasks.beginCall(task, callId, context.callId, callerAgent?.name, context.expiresAt, now, false);
      const initiatorName = this.nameOf(task.initiator);
      stored = this.graph.trees.add(this.graph.trees.ensure(task.rootTaskId, task.initiator, initiatorName, task.startedAt), record);
      if (this.feed)
        this.feed({ k: 'call', task: { root: task.rootTaskId, initiator: task.initiator, initiatorName, rootStart: task.startedAt }, rec: record });
    } else {
      if (callerAgent !== undefined) this.windows.recordCall(callerAgent.name, now);
      if (this.feed) this.feed({ k: 'call', rec: record });
    }
    this.graph.aggregate.recordCall(ctx.callerId, ctx.calleeId, now);
    ctx.governance = {
      callId,
      rootTaskId: call === undefined ? undefined : context?.rootTaskId,
      startedAt: now,
      traceId: trace.traceId,
      call,
      record: stored ? record : undefined,
      refused: false,
      finished: false,
    };
    return undefined;
  }

  private refused(ctx: GovernedCall, r: Refusal, context: DelegationContext | undefined, now: number, callId = this.nextCallId()): Refusal {
    const callerName = ctx.callerAgent ?? this.built.byId.get(ctx.callerId)?.name;
    const label = callerName ?? UNREGISTERED;
    this.graph.aggregate.recordRefusal(ctx.callerId, ctx.calleeId, now, r.reason);
    this.metrics?.refusal(label, ctx.callee, r.reason);
    const budget = budgetOf(r.reason);
    if (budget) this.metrics?.budgetExhausted(budget.scope, budget.budget);

    // into the task's tree when we know the task (a verified context for a task still tracked)
    const task = context && this.tasks.get(context.rootTaskId);
    let rec: CallRecord | undefined;
    let loop: LoopCut | undefined;
    if (context && task) {
      const tree = this.graph.trees.ensure(task.rootTaskId, task.initiator, this.nameOf(task.initiator), task.startedAt);
      if (task.cancelled) tree.cancelled = true;
      rec = {
        id: callId,
        parent: context.callId,
        caller: ctx.callerId,
        callerName: callerName ?? shortName(ctx.callerId),
        callee: ctx.calleeId,
        calleeName: ctx.callee,
        method: ctx.method,
        depth: context.depth + 1,
        start: now,
        decision: 'refused',
        reason: r.reason,
        message: r.message,
        status: r.status,
        durationMs: undefined,
        error: undefined,
        cost: 0,
        costInclusive: 0,
        traceId: undefined,
      };
      this.graph.trees.add(tree, rec);
      if (r.reason === 'loop') {
        loop = { callId, from: ctx.callerId, to: ctx.calleeId, cycle: r.data.cycle as string[] };
        tree.loops.push(loop);
      }
    }
    if (rec === undefined) this.graph.noteRefusal({ at: now, from: ctx.callerId, to: ctx.calleeId, method: ctx.method, status: r.status, reason: r.reason });
    if (this.feed) {
      const taskRef = task && { root: task.rootTaskId, initiator: task.initiator, initiatorName: this.nameOf(task.initiator), rootStart: task.startedAt };
      this.feed({
        k: 'refused',
        from: ctx.callerId,
        to: ctx.calleeId,
        at: now,
        task: taskRef,
        rec,
        loop,
        cancelled: task?.cancelled,
        reason: r.reason,
        status: r.status,
        method: ctx.method,
      });
    }
    if (r.reason === 'loop') {
      this.metrics?.loopCut(label, ctx.callee);
      this.log?.warn({ rootTaskId: context?.rootTaskId, initiator: r.data.initiator, closingEdge: r.data.closingEdge, chain: r.data.chain }, r.message);
    }
    ctx.governance = {
      callId,
      parentCallId: context?.callId,
      rootTaskId: context?.rootTaskId,
      startedAt: now,
      traceId: undefined,
      call: undefined,
      record: undefined,
      refused: true,
      finished: true,
    };
    return r;
  }

  /** Response headers arrived: charge `tollgate-cost` (does not end the call). */
  onResponse(ctx: GovernedCall): void {
    const h = handleOf(ctx);
    if (!h || h.refused || h.finished) return;
    const raw = ctx.responseHeader(COST_HEADER);
    if (raw === undefined) return;
    const cost = parseCost(raw);
    if (cost === undefined) {
      this.counters.invalidCostHeaders++;
      this.metrics?.invalidCost?.(ctx.callee);
      return;
    }
    if (cost === 0) return;
    if (h.call === undefined || !this.tasks.recordCost(h.call, cost, this.now())) {
      this.counters.lateCosts++;
      return;
    }
    this.metrics?.cost(h.call?.callerAgent ?? UNREGISTERED, cost);
  }

  /**
   * The call ended (any way): the status the caller got (the gateway's 502/504 when the upstream failed) and,
   * for a call without a complete answer, why (ctx.error: the upstream error kind or client_abort).
   */
  onComplete(ctx: GovernedCall): void {
    this.onFinished(ctx, ctx.status, ctx.error);
  }

  /**
   * The call ended (any way). Exactly-once: later calls for the same call do nothing. status 0 = no response;
   * `error` names a failure without a complete answer (shown with the status in the tree).
   */
  onFinished(ctx: GovernedCall, status: number, error?: string): void {
    const h = handleOf(ctx);
    if (!h || h.finished) return;
    h.finished = true;
    const now = this.now();
    if (h.call !== undefined) this.tasks.finishCall(h.call);
    const dur = now - h.startedAt;
    const a2a: A2aIds | undefined = ctx.taskId || ctx.contextId ? { taskId: ctx.taskId, contextId: ctx.contextId } : undefined;
    if (h.record !== undefined) TaskTrees.finishRecord(h.record, status, dur, error, a2a);
    else if (h.rootTaskId !== undefined) this.graph.trees.finish(h.rootTaskId, h.callId, status, dur, error, a2a);
    const failed = isFailure(status, error);
    this.graph.aggregate.recordResult(ctx.callerId, ctx.calleeId, now, dur, failed, failed ? errorKindOf(status, error) : undefined);
    if (this.feed) this.feed({ k: 'end', from: ctx.callerId, to: ctx.calleeId, at: now, root: h.rootTaskId, call: h.callId, status, dur, err: error, a2a });
  }

  /** A refusal by any stage (see the contract above). */
  onRefused(ctx: GovernedCall, refusal: { status: number; reason: string }): void {
    const h = handleOf(ctx);
    if (h?.refused) return;
    const now = this.now();
    if (!h) this.graph.noteRefusal({ at: now, from: ctx.callerId, to: ctx.calleeId, method: ctx.method, status: refusal.status, reason: refusal.reason });
    if (h) {
      if (h.finished) return;
      // allowed here, refused by a later stage: nothing was forwarded
      h.finished = true;
      if (h.call !== undefined) this.tasks.finishCall(h.call);
      if (h.rootTaskId !== undefined) this.graph.trees.markRefused(h.rootTaskId, h.callId, refusal.status, refusal.reason);
      if (this.feed) {
        this.feed({
          k: 'undo',
          from: ctx.callerId,
          to: ctx.calleeId,
          at: now,
          root: h.rootTaskId,
          call: h.callId,
          status: refusal.status,
          reason: refusal.reason,
        });
      }
    } else if (this.feed) {
      this.feed({ k: 'refused', from: ctx.callerId, to: ctx.calleeId, at: now, reason: refusal.reason, status: refusal.status, method: ctx.method });
    }
    this.graph.aggregate.recordRefusal(ctx.callerId, ctx.calleeId, now, refusal.reason);
  }

  /** Kill switch for a root task. Returns false if the task is not tracked. */
  cancelTask(rootTaskId: string): boolean {
    const ok = this.tasks.cancel(rootTaskId);
    const tree = this.graph.trees.get(rootTaskId);
    if (tree) tree.cancelled = true;
    if (this.feed) this.feed({ k: 'cancel', root: rootTaskId });
    return ok;
  }

  /** Housekeeping for a timer (e.g. every 10 s): expired tasks, stale graph buckets, retired keys. */
  tick(): void {
    const now = this.now();
    this.tasks.sweep(now);
    this.graph.aggregate.sweep(now);
    this.keyring.prune();
  }

  stats(): {
    tasks: ReturnType<TaskRegistry['stats']>;
    trees: number;
    treeCalls: number;
    edges: number;
    agents: number;
    invalidCostHeaders: number;
    lateCosts: number;
  } {
    return {
      tasks: this.tasks.stats(),
      trees: this.graph.trees.size(),
      treeCalls: this.graph.trees.callCount(),
      edges: this.graph.aggregate.size(),
      agents: this.windows.size(),
      ...this.counters,
    };
  }
}

export function createDelegationStage(opts: DelegationStageOptions): DelegationStage {
  return new DelegationStage(opts);
}
