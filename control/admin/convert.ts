/**
 * Admin API messages <-> config shapes. Every input goes through the config's own zod schemas, so the admin
 * API and the config file accept exactly the same things and report problems the same way (field path
 * first). The message types are generated from proto/tollgate/v1/admin.proto (protocol/generated/): the
 * decoded shapes (camelCase, int64 as number, unset message fields null, unset `optional` scalars absent),
 * which the answers built here fill in completely too.
 */
import { z } from 'zod';
import { configSchemas, type AgentConfig, type Config, type PolicyRule } from '../../config/schema.js';
import { formatIssues } from '../../config/load.js';
import type { Agent__Output, Limits__Output, PolicyRule__Output } from '../../protocol/admin.js';
import { AdminError } from './errors.js';

export type AgentMsg = Agent__Output;
export type PolicyRuleMsg = PolicyRule__Output;
export type LimitsMsg = Limits__Output;

type Issues = readonly { path: readonly PropertyKey[]; message: string }[];

function invalid(what: string, prefix: PropertyKey[], issues: Issues): AdminError {
  return new AdminError('invalid_argument', `invalid ${what}: ${formatIssues(issues.map((i) => ({ path: [...prefix, ...i.path], message: i.message })))}`);
}

export function agentFromMsg(msg: AgentMsg | null | undefined): { name: string; agent: AgentConfig } {
  if (!msg) throw new AdminError('invalid_argument', 'invalid agent: agent is missing');
  const name = typeof msg.name === 'string' ? msg.name : '';
  if (name.length === 0) throw new AdminError('invalid_argument', 'invalid agent: agent.name is empty');
  const limits = msg.limits ? pickDefined(msg.limits, ['callsPerMinute', 'callsPerHour', 'callsPerDay', 'costPerDay']) : undefined;
  const raw = {
    url: msg.url,
    id: msg.id,
    requireDelegationContext: msg.requireDelegationContext ?? false,
    maxRevisits: msg.maxRevisits ?? 0,
    ...(limits ? { limits } : {}),
  };
  // the registry's own record schema: validates the agent name (the record key) and the agent together
  const r = configSchemas().configSchema.shape.agents.safeParse({ [name]: raw });
  if (!r.success) throw invalid('agent', ['agents'], r.error.issues);
  return { name, agent: r.data[name] };
}

export function agentToMsg(name: string, a: AgentConfig): AgentMsg {
  return {
    name,
    url: a.url,
    id: a.id,
    requireDelegationContext: a.requireDelegationContext,
    maxRevisits: a.maxRevisits,
    limits: a.limits ? { ...a.limits } : null,
  };
}

export function rulesFromMsg(rules: readonly PolicyRuleMsg[] | null | undefined): PolicyRule[] {
  const raw = (rules ?? []).map((r) => {
    const from = r.from ?? [];
    const to = r.to ?? [];
    return {
      from: from.length === 1 ? from[0] : from,
      to: to.length === 1 && to[0] === '*' ? '*' : to,
      ...(r.methods && r.methods.length > 0 ? { methods: r.methods } : {}),
      ...(r.nonA2a ? { nonA2A: true } : {}),
      ...(r.chainJson && r.chainJson.trim() !== '' ? { chain: parseJsonField('chain_json', r.chainJson, 'policy') } : {}),
    };
  });
  const r = z.array(configSchemas().policyRule).safeParse(raw);
  if (!r.success) throw invalid('policy', ['policy'], r.error.issues);
  return r.data;
}

export function ruleToMsg(rule: PolicyRule): PolicyRuleMsg {
  return {
    from: typeof rule.from === 'string' ? [rule.from] : [...rule.from],
    to: rule.to === '*' ? ['*'] : [...rule.to],
    methods: rule.methods ? [...rule.methods] : [],
    nonA2a: rule.nonA2A ?? false,
    chainJson: rule.chain ? JSON.stringify(rule.chain) : '',
  };
}

function parseJsonField(field: string, text: string, what = 'limits'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AdminError('invalid_argument', `invalid ${what}: ${field} is not valid JSON (${(e as Error).message})`);
  }
}

/** New rateLimits/delegation from a SetLimits request; an empty JSON string keeps the current section. */
export function limitsFromMsg(
  msg: Pick<LimitsMsg, 'rateLimitsJson' | 'delegationJson'>,
  current: Config,
): { rateLimits: Config['rateLimits']; delegation: Config['delegation'] } {
  let rateLimits = current.rateLimits;
  let delegation = current.delegation;
  if (msg.rateLimitsJson && msg.rateLimitsJson.trim() !== '') {
    const r = configSchemas().rateLimitsSchema.safeParse(parseJsonField('rate_limits_json', msg.rateLimitsJson));
    if (!r.success) throw invalid('limits', ['rateLimits'], r.error.issues);
    rateLimits = r.data;
  }
  if (msg.delegationJson && msg.delegationJson.trim() !== '') {
    const r = configSchemas().delegationSchema.safeParse(parseJsonField('delegation_json', msg.delegationJson));
    if (!r.success) throw invalid('limits', ['delegation'], r.error.issues);
    delegation = r.data;
  }
  return { rateLimits, delegation };
}

/** The shadow rate limits of a SetLimits request with shadow set (rate_limits_json required, delegation_json empty). */
export function shadowLimitsFromMsg(msg: Pick<LimitsMsg, 'rateLimitsJson' | 'delegationJson'>): NonNullable<Config['shadowRateLimits']> {
  if (msg.delegationJson && msg.delegationJson.trim() !== '') {
    throw new AdminError('invalid_argument', 'delegation_json must be empty with shadow: only rate limits can be shadowed, delegation budgets cannot');
  }
  if (!msg.rateLimitsJson || msg.rateLimitsJson.trim() === '') {
    throw new AdminError('invalid_argument', 'rate_limits_json is empty: give the shadow rate limits (config rateLimits shape)');
  }
  const r = configSchemas().rateLimitsSchema.safeParse(parseJsonField('rate_limits_json', msg.rateLimitsJson));
  if (!r.success) throw invalid('limits', ['shadowRateLimits'], r.error.issues);
  return r.data;
}

export function limitsToMsg(cfg: Config, version: number): LimitsMsg {
  return {
    version,
    rateLimitsJson: JSON.stringify(cfg.rateLimits),
    delegationJson: JSON.stringify(cfg.delegation),
    hasShadow: cfg.shadowRateLimits !== undefined,
    shadowRateLimitsJson: cfg.shadowRateLimits === undefined ? '' : JSON.stringify(cfg.shadowRateLimits),
  };
}

/** A request's `version`: a whole number >= 0. */
export function versionArg(v: unknown, field = 'version'): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new AdminError('invalid_argument', `${field} must be a whole number >= 0 (the version you last read)`);
  }
  return n;
}

function pickDefined<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Partial<Pick<T, K>> | undefined {
  const out: Partial<Pick<T, K>> = {};
  let any = false;
  for (const k of keys) {
    if (obj[k] !== undefined && obj[k] !== null) {
      out[k] = obj[k];
      any = true;
    }
  }
  return any ? out : undefined;
}
