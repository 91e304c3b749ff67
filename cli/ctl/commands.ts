/**
 * Every `tollgate ctl` verb: its flags, help text, and how it maps to one Admin RPC. Thin on purpose: the
 * gateway validates (with the config's schemas) and decides; this file only builds requests and prints.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { formatDuration } from '../../config/duration.js';
import type {
  Agent__Output,
  Certificate__Output,
  Event__Output,
  Limits__Output,
  Policy__Output,
  PolicyDiff__Output,
  PolicyExplanation__Output,
  PolicyRule,
} from '../../protocol/admin.js';
import { renderExplanation, type Explanation } from '../../gateway/policy-explain.js';
import { chainArg, EXIT_DENIED } from '../commands/policy-explain.js';
import type { AdminConnection } from './client.js';
import { CtlError, type CtlIo } from './io.js';
import { json, table, time } from './format.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** shown in help: what the value is */
  value?: string;
  desc: string;
}

export interface CommandContext {
  conn: AdminConnection;
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  io: CtlIo;
  json: boolean;
  signal: AbortSignal;
  /** the exit code when the command succeeded but has a verdict to report (`policy explain`: 3 = denied); default 0 */
  exitCode?: number;
}

export interface CommandSpec {
  path: readonly string[];
  /** arguments after the command path, for the usage line */
  args?: string;
  summary: string;
  /** extra help paragraphs */
  details?: string;
  positionals?: { min: number; max: number; names: string };
  options: Record<string, OptionSpec>;
  run(ctx: CommandContext): Promise<void>;
}

// ---- small helpers -------------------------------------------------------------------------------

function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

function list(ctx: CommandContext, name: string): string[] {
  const v = ctx.values[name];
  const raw = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  // Repeated flags and comma lists both work: --kind call --kind config == --kind call,config
  return raw
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function required(ctx: CommandContext, name: string, hint: string): string {
  const v = str(ctx, name);
  if (v === undefined || v.trim() === '') throw new CtlError('usage', `--${name} is required: ${hint}`);
  return v;
}

function wholeNumber(ctx: CommandContext, name: string, min = 0): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new CtlError('usage', `--${name} must be a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function positiveNumber(ctx: CommandContext, name: string): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new CtlError('usage', `--${name} must be a number > 0, got ${JSON.stringify(v)}`);
  return n;
}

function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CtlError('usage', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}`);
  }
  try {
    return parseYaml(text);
  } catch (e) {
    throw new CtlError('usage', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
}

const VERSION_OPT: OptionSpec = { type: 'string', value: 'N', desc: 'the version you read (get/list); refused with ABORTED if it changed since' };

/** A rule as `policy set` sends it (every field filled in) and `policy get` receives it. */
type RuleMsg = Required<Pick<PolicyRule, 'from' | 'to' | 'methods' | 'nonA2a' | 'chainJson'>>;

/** Proto rule -> the config file's shape (so `policy get` output can be edited and fed to `policy set`). */
function ruleToYaml(r: RuleMsg): Record<string, unknown> {
  return {
    from: r.from.length === 1 ? r.from[0] : r.from,
    to: r.to.length === 1 && r.to[0] === '*' ? '*' : r.to,
    ...(r.methods.length > 0 ? { methods: r.methods } : {}),
    ...(r.nonA2a ? { nonA2A: true } : {}),
    ...(r.chainJson ? { chain: JSON.parse(r.chainJson) as unknown } : {}),
  };
}

function asArray(v: unknown, what: string, file: string, i: number): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  if (v === undefined && what === 'methods') return [];
  throw new CtlError('usage', `${file}: policy.${i}.${what} must be a string or a list of strings`);
}

const RULE_KEYS = ['from', 'to', 'methods', 'nonA2A', 'chain'];

/** `ctl policy diff` / `ctl limits diff`: the shadow's counts and recent differing calls. */
function printShadowDiff(ctx: CommandContext, res: PolicyDiff__Output, section: 'policy' | 'limits'): void {
  if (ctx.json) {
    ctx.io.stdout(
      json({ hasShadow: res.hasShadow, version: res.version, since: res.sinceUnixMs, evaluated: res.evaluated, counts: res.counts, recent: res.recent }),
    );
    return;
  }
  const what = section === 'policy' ? 'shadow policy' : 'shadow rate limits';
  if (!res.hasShadow) {
    ctx.io.stdout(
      `no ${what} ${section === 'policy' ? 'is' : 'are'} set (${section} version ${res.version}): set ${section === 'policy' ? 'one' : 'them'} with tollgate ctl ${section} set --file FILE --shadow\n`,
    );
    return;
  }
  const differ = res.counts.reduce((n, c) => n + c.count, 0);
  ctx.io.stdout(
    `${what} (${section} version ${res.version}): ${res.evaluated} call(s) evaluated since ${time(res.sinceUnixMs)}, ${differ} decided differently\n`,
  );
  if (res.counts.length > 0) {
    ctx.io.stdout(
      table(
        ['VERDICT', 'CALLER', 'CALLEE', 'CALLS'],
        res.counts.map((c) => [c.verdict, c.caller, c.callee, String(c.count)]),
      ),
    );
  }
  if (res.recent.length > 0) {
    ctx.io.stdout('recent:\n');
    ctx.io.stdout(
      table(
        ['TIME', 'VERDICT', 'CALLER', 'CALLEE', 'METHOD', 'NOW', 'SHADOW'],
        res.recent.map((c) => [time(c.timeUnixMs), c.verdict, c.callerId, c.callee, c.method, c.active, c.shadow]),
      ),
    );
  }
  ctx.io.stdout(`promote with tollgate ctl ${section} promote --version ${res.version}, or drop with tollgate ctl ${section} shadow clear\n`);
}

function limitsJson(res: Limits__Output) {
  return {
    version: res.version,
    rateLimits: JSON.parse(res.rateLimitsJson || '{}') as unknown,
    delegation: JSON.parse(res.delegationJson || '{}') as unknown,
    ...(res.hasShadow ? { shadowRateLimits: JSON.parse(res.shadowRateLimitsJson || '{}') as unknown } : {}),
  };
}

/** Accepts a list of rules or a mapping with a `policy:` (or, for shadow rules, `shadowPolicy:`) key (a config file excerpt). */
function rulesFromFile(file: string, shadow = false): RuleMsg[] {
  const doc = readYamlFile(file);
  const key = shadow && doc && typeof doc === 'object' && 'shadowPolicy' in doc ? 'shadowPolicy' : 'policy';
  const rules = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && key in doc ? (doc as Record<string, unknown>)[key] : undefined;
  if (!Array.isArray(rules)) throw new CtlError('usage', `${file} must hold a list of policy rules, or a mapping with a policy: list`);
  return rules.map((r, i) => {
    if (!r || typeof r !== 'object') throw new CtlError('usage', `${file}: policy.${i} must be a mapping with from, to and optionally methods`);
    const rule = r as Record<string, unknown>;
    const extra = Object.keys(rule).filter((k) => !RULE_KEYS.includes(k));
    if (extra.length > 0) throw new CtlError('usage', `${file}: policy.${i} has unknown key ${extra[0]} (a rule has ${RULE_KEYS.join(', ')})`);
    if (rule.nonA2A !== undefined && typeof rule.nonA2A !== 'boolean') throw new CtlError('usage', `${file}: policy.${i}.nonA2A must be true or false`);
    if (rule.chain !== undefined && (rule.chain === null || typeof rule.chain !== 'object'))
      throw new CtlError('usage', `${file}: policy.${i}.chain must be a mapping (initiator, via, notVia, maxDepth)`);
    return {
      from: asArray(rule.from, 'from', file, i),
      to: asArray(rule.to, 'to', file, i),
      methods: asArray(rule.methods, 'methods', file, i),
      nonA2a: rule.nonA2A === true,
      // checked by the server against the config schema (one set of messages)
      chainJson: rule.chain === undefined ? '' : JSON.stringify(rule.chain),
    };
  });
}

/** Durations travel as ms; show them the way the config file writes them. */
function readableDelegation(d: unknown): Record<string, unknown> {
  // the server's JSON, not trusted to be the shape the config has
  const out: Record<string, unknown> = { ...(d as Record<string, unknown>) };
  if (typeof out.tokenTtl === 'number') out.tokenTtl = formatDuration(out.tokenTtl);
  const task = out.task as Record<string, unknown> | null | undefined;
  if (task && typeof task.deadline === 'number') out.task = { ...task, deadline: formatDuration(task.deadline) };
  return out;
}

function policyJson(res: Policy__Output) {
  return { version: res.version, rules: res.rules.map(ruleToYaml), ...(res.hasShadow ? { shadowPolicy: res.shadowRules.map(ruleToYaml) } : {}) };
}

function explanationOf(res: PolicyExplanation__Output): Explanation {
  return {
    allowed: res.allowed,
    reason: res.reason,
    decidedBy: res.decidedBy,
    message: res.message,
    method: res.method,
    chain: res.chain,
    rules: res.rules.map((r) => ({ rule: r.rule, verdict: r.verdict, allows: r.allows })),
    limits: res.limits,
  };
}

function limitsText(l: Agent__Output['limits']): string {
  if (!l) return '-';
  const parts: string[] = [];
  if (l.callsPerMinute !== undefined) parts.push(`${l.callsPerMinute}/min`);
  if (l.callsPerHour !== undefined) parts.push(`${l.callsPerHour}/h`);
  if (l.callsPerDay !== undefined) parts.push(`${l.callsPerDay}/day`);
  if (l.costPerDay !== undefined) parts.push(`cost ${l.costPerDay}/day`);
  return parts.length > 0 ? parts.join(' ') : '-';
}

function plainAgent(a: Agent__Output) {
  const limits = a.limits ? Object.fromEntries(Object.entries(a.limits).filter(([k, v]) => v !== undefined && !k.startsWith('_'))) : undefined;
  return {
    name: a.name,
    url: a.url,
    id: a.id,
    requireDelegationContext: a.requireDelegationContext,
    maxRevisits: a.maxRevisits,
    ...(limits ? { limits } : {}),
  };
}

// ---- the commands --------------------------------------------------------------------------------

export const COMMANDS: readonly CommandSpec[] = [
  {
    path: ['token', 'create'],
    args: '--spiffe-id ID [--ttl DURATION]',
    summary: 'create a single-use join token that bootstraps the identity ID',
    details: 'Give the token to the agent (e.g. `tollgate bootstrap --token ...`). It is shown once and stored only as a hash.',
    options: {
      'spiffe-id': { type: 'string', value: 'ID', desc: 'the identity the token will issue, e.g. spiffe://tollgate.local/agent/writer' },
      ttl: { type: 'string', value: 'DURATION', desc: 'token lifetime like 10m or 1h (default: ca.tokenTtl)' },
    },
    async run(ctx) {
      const spiffeId = required(ctx, 'spiffe-id', 'name the identity the token will issue, e.g. --spiffe-id spiffe://tollgate.local/agent/writer');
      const res = await ctx.conn.call('CreateJoinToken', { spiffeId, ttl: str(ctx, 'ttl') ?? '' });
      if (ctx.json) {
        ctx.io.stdout(json({ token: res.token, spiffeId: res.spiffeId, expiresAt: res.expiresAtUnixMs }));
        return;
      }
      ctx.io.stdout(`${res.token}\n`);
      ctx.io.stderr(`join token for ${res.spiffeId}, single use, expires ${time(res.expiresAtUnixMs)}\n`);
    },
  },
  {
    path: ['agents', 'list'],
    summary: 'list the agent registry',
    options: {},
    async run(ctx) {
      const res = await ctx.conn.call('ListAgents', {});
      const agents = res.agents.map(plainAgent);
      if (ctx.json) {
        ctx.io.stdout(json({ version: res.version, agents }));
        return;
      }
      if (agents.length === 0) ctx.io.stdout('no agents registered\n');
      ctx.io.stdout(
        table(
          ['NAME', 'URL', 'SPIFFE ID', 'DELEGATION CONTEXT', 'MAX REVISITS', 'LIMITS'],
          res.agents.map((a) => [a.name, a.url, a.id, a.requireDelegationContext ? 'required' : 'optional', String(a.maxRevisits), limitsText(a.limits)]),
        ),
      );
      ctx.io.stdout(`registry version ${res.version}\n`);
    },
  },
  {
    path: ['agents', 'put'],
    args: 'NAME --url URL --id SPIFFE_ID [options]',
    summary: 'register an agent, or replace its entry',
    positionals: { min: 1, max: 1, names: 'NAME' },
    options: {
      url: { type: 'string', value: 'URL', desc: "the agent's upstream base URL (https://...)" },
      id: { type: 'string', value: 'SPIFFE_ID', desc: 'the SPIFFE ID the upstream must present' },
      'require-delegation-context': { type: 'boolean', desc: "refuse this agent's calls unless they carry a delegation context" },
      'max-revisits': { type: 'string', value: 'N', desc: 'times this agent may reappear in one delegation chain (default 0)' },
      'calls-per-minute': { type: 'string', value: 'N', desc: 'calls this agent may make per minute' },
      'calls-per-hour': { type: 'string', value: 'N', desc: 'calls this agent may make per hour' },
      'calls-per-day': { type: 'string', value: 'N', desc: 'calls this agent may make per day' },
      'cost-per-day': { type: 'string', value: 'X', desc: 'cost this agent may incur per day' },
      version: { ...VERSION_OPT, desc: 'registry version from `agents list`: refuse if the registry changed since' },
    },
    async run(ctx) {
      const name = ctx.positionals[0];
      const limits: Record<string, number> = {};
      for (const [flag, field] of [
        ['calls-per-minute', 'callsPerMinute'],
        ['calls-per-hour', 'callsPerHour'],
        ['calls-per-day', 'callsPerDay'],
      ] as const) {
        const n = wholeNumber(ctx, flag, 1);
        if (n !== undefined) limits[field] = n;
      }
      const cost = positiveNumber(ctx, 'cost-per-day');
      if (cost !== undefined) limits.costPerDay = cost;
      const agent = {
        name,
        url: required(ctx, 'url', "give the agent's upstream base URL, e.g. --url https://10.0.0.5:9001"),
        id: required(ctx, 'id', 'give the SPIFFE ID the upstream presents, e.g. --id spiffe://tollgate.local/agent/writer'),
        requireDelegationContext: ctx.values['require-delegation-context'] === true,
        maxRevisits: wholeNumber(ctx, 'max-revisits') ?? 0,
        limits: Object.keys(limits).length > 0 ? limits : null,
      };
      const expectedVersion = wholeNumber(ctx, 'version');
      const res = await ctx.conn.call('PutAgent', { agent, ...(expectedVersion !== undefined ? { expectedVersion } : {}) });
      if (ctx.json) {
        ctx.io.stdout(json({ created: res.created, version: res.version, agent: res.agent && plainAgent(res.agent) }));
        return;
      }
      ctx.io.stdout(`agent ${name} ${res.created ? 'registered' : 'updated'} (registry version ${res.version})\n`);
    },
  },
  {
    path: ['agents', 'remove'],
    args: 'NAME [--version N]',
    summary: 'remove an agent from the registry (remove it from the policy first)',
    positionals: { min: 1, max: 1, names: 'NAME' },
    options: { version: { ...VERSION_OPT, desc: 'registry version from `agents list`: refuse if the registry changed since' } },
    async run(ctx) {
      const expectedVersion = wholeNumber(ctx, 'version');
      const res = await ctx.conn.call('RemoveAgent', { name: ctx.positionals[0], ...(expectedVersion !== undefined ? { expectedVersion } : {}) });
      if (ctx.json) {
        ctx.io.stdout(json({ removed: res.removed, version: res.version }));
        return;
      }
      if (!res.removed) throw new CtlError('failed', `no agent named ${ctx.positionals[0]} (see tollgate ctl agents list)`);
      ctx.io.stdout(`agent ${ctx.positionals[0]} removed (registry version ${res.version})\n`);
    },
  },
  {
    path: ['policy', 'get'],
    summary: 'print the allow rules (YAML you can edit and pass to `policy set --file`), and the shadow rules if set',
    options: {},
    async run(ctx) {
      const res = await ctx.conn.call('GetPolicy', {});
      const rules = res.rules.map(ruleToYaml);
      const shadow = res.hasShadow ? { shadowPolicy: res.shadowRules.map(ruleToYaml) } : {};
      if (ctx.json) {
        ctx.io.stdout(json({ version: res.version, rules, ...shadow }));
        return;
      }
      ctx.io.stdout(`# policy version ${res.version}: change with tollgate ctl policy set --file FILE --version ${res.version}\n`);
      if (res.hasShadow) ctx.io.stdout('# shadowPolicy: counted, not enforced (tollgate ctl policy diff; promote or shadow clear)\n');
      ctx.io.stdout(toYaml({ policy: rules, ...shadow }));
    },
  },
  {
    path: ['policy', 'set'],
    args: '--file RULES.yaml [--shadow] [--version N]',
    summary: 'replace the allow rules, or (--shadow) the shadow rules',
    details:
      'RULES.yaml holds a list of rules (from, to, methods), or a mapping with a policy: list, as in the config file.\n' +
      'With --shadow the rules are stored as shadow rules (a shadowPolicy: list is read too): live calls are still decided by the policy, and the calls the shadow rules would decide differently are counted and logged (tollgate ctl policy diff) until you promote or clear them.\n' +
      'Without --version the current version is read first (last writer wins); pass --version to be refused if someone changed the policy since you read it.',
    options: {
      file: { type: 'string', value: 'FILE', desc: 'YAML file with the new rules' },
      shadow: { type: 'boolean', desc: 'store them as shadow rules: counted and logged, not enforced' },
      version: VERSION_OPT,
    },
    async run(ctx) {
      const shadow = ctx.values.shadow === true;
      const rules = rulesFromFile(required(ctx, 'file', 'give a YAML file with the new rules (see tollgate ctl policy get)'), shadow);
      const version = wholeNumber(ctx, 'version') ?? (await ctx.conn.call('GetPolicy', {})).version;
      const res = await ctx.conn.call('SetPolicy', { version, rules, shadow });
      if (ctx.json) {
        ctx.io.stdout(json(policyJson(res)));
        return;
      }
      const n = (shadow ? res.shadowRules : res.rules).length;
      ctx.io.stdout(
        `${shadow ? 'shadow policy' : 'policy'} set: ${n} rule${n === 1 ? '' : 's'} (policy version ${res.version})${shadow ? '; see tollgate ctl policy diff' : ''}\n`,
      );
    },
  },
  {
    path: ['policy', 'explain'],
    args: '--from ID --to AGENT [--method M] [--chain ID,ID,...] [--shadow]',
    summary: 'would the running gateway allow a call, and which rule or limit decides it',
    details:
      "Answered from the gateway's running config (rules saved through the admin API included); `tollgate policy explain --config FILE` answers offline from a file.\n" +
      'Exit status 0: allowed; 3: denied; 1: the command failed; 2: usage.',
    options: {
      from: { type: 'string', value: 'ID', desc: "the caller's SPIFFE ID" },
      to: { type: 'string', value: 'AGENT', desc: 'the callee agent name' },
      method: { type: 'string', value: 'M', desc: 'an A2A method (v0.3 or v1.0 name, or PushNotification; default SendMessage)' },
      chain: { type: 'string', multiple: true, value: 'ID,ID,...', desc: 'the delegation chain before the caller, initiator first (repeat or comma-separate)' },
      shadow: { type: 'boolean', desc: 'explain with the shadow rules in place of the policy' },
    },
    async run(ctx) {
      const from = required(ctx, 'from', "name the caller's SPIFFE ID, e.g. --from spiffe://tollgate.local/agent/researcher");
      const to = required(ctx, 'to', 'name the callee agent, e.g. --to writer');
      let chain: string[];
      try {
        chain = chainArg(list(ctx, 'chain'));
      } catch (e) {
        throw new CtlError('usage', `--chain: ${(e as Error).message}`);
      }
      const res = await ctx.conn.call('ExplainPolicy', { from, to, method: str(ctx, 'method') ?? '', chain, shadow: ctx.values.shadow === true });
      const e = explanationOf(res);
      ctx.io.stdout(ctx.json ? json(e) : renderExplanation(e));
      if (!e.allowed) ctx.exitCode = EXIT_DENIED;
    },
  },
  {
    path: ['policy', 'diff'],
    args: '[--limit N]',
    summary: 'calls the shadow rules would decide differently (would_deny, would_allow), counted by the gateway that answers',
    details:
      'Counts are kept by each replica since the policy or its shadow last changed (tollgate_policy_shadow_diff_total is the metric); only the policy decision is compared, not limits or budgets.',
    options: { limit: { type: 'string', value: 'N', desc: 'recent differing calls to show (default 20, at most 1000)' } },
    async run(ctx) {
      const res: PolicyDiff__Output = await ctx.conn.call('GetPolicyDiff', { limit: wholeNumber(ctx, 'limit', 1) ?? 0 });
      printShadowDiff(ctx, res, 'policy');
    },
  },
  {
    path: ['policy', 'promote'],
    args: '[--version N]',
    summary: 'make the shadow rules the enforced policy (one versioned write)',
    details:
      'Without --version the current version is read first; pass the version `policy diff` showed to be refused if the policy or its shadow changed since.',
    options: { version: VERSION_OPT },
    async run(ctx) {
      const version = wholeNumber(ctx, 'version') ?? (await ctx.conn.call('GetPolicy', {})).version;
      const res = await ctx.conn.call('PromoteShadowPolicy', { version });
      if (ctx.json) {
        ctx.io.stdout(json(policyJson(res)));
        return;
      }
      ctx.io.stdout(`shadow policy promoted: ${res.rules.length} rule${res.rules.length === 1 ? '' : 's'} enforced (policy version ${res.version})\n`);
    },
  },
  {
    path: ['policy', 'shadow', 'clear'],
    args: '[--version N]',
    summary: 'drop the shadow rules (the enforced policy stays)',
    options: { version: VERSION_OPT },
    async run(ctx) {
      const version = wholeNumber(ctx, 'version') ?? (await ctx.conn.call('GetPolicy', {})).version;
      const res = await ctx.conn.call('ClearShadowPolicy', { version });
      if (ctx.json) {
        ctx.io.stdout(json(policyJson(res)));
        return;
      }
      ctx.io.stdout(`shadow policy cleared (policy version ${res.version})\n`);
    },
  },
  {
    path: ['limits', 'get'],
    summary: 'print rate limits (rateLimits) and delegation budgets (delegation)',
    options: {},
    async run(ctx) {
      const res: Limits__Output = await ctx.conn.call('GetLimits', {});
      const doc = limitsJson(res);
      if (ctx.json) {
        ctx.io.stdout(json(doc));
        return;
      }
      ctx.io.stdout(`# limits version ${res.version}: change with tollgate ctl limits set --file FILE --version ${res.version}\n`);
      if (res.hasShadow) ctx.io.stdout('# shadowRateLimits: counted, not enforced (tollgate ctl limits diff; promote or shadow clear)\n');
      const shadow = res.hasShadow ? { shadowRateLimits: doc.shadowRateLimits } : {};
      ctx.io.stdout(toYaml({ rateLimits: doc.rateLimits, delegation: readableDelegation(doc.delegation), ...shadow }));
    },
  },
  {
    path: ['limits', 'set'],
    args: '--file LIMITS.yaml [--shadow] [--version N]',
    summary: 'replace rate limits and/or delegation budgets, or (--shadow) the shadow rate limits',
    details:
      'LIMITS.yaml has a rateLimits: and/or a delegation: mapping, as in the config file; a section left out stays as it is.\n' +
      'With --shadow its rateLimits: (or shadowRateLimits:) are stored as shadow rate limits: live calls are still limited by rateLimits, and the calls the shadow limits would decide differently are counted and logged (tollgate ctl limits diff) until you promote or clear them.\n' +
      'Without --version the current version is read first (last writer wins).',
    options: {
      file: { type: 'string', value: 'FILE', desc: 'YAML file with rateLimits: and/or delegation:' },
      shadow: { type: 'boolean', desc: 'store the rate limits as shadow limits: counted and logged, not enforced' },
      version: VERSION_OPT,
    },
    async run(ctx) {
      const file = required(ctx, 'file', 'give a YAML file with rateLimits: and/or delegation: (see tollgate ctl limits get)');
      const doc = readYamlFile(file);
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new CtlError('usage', `${file} must be a mapping with rateLimits: and/or delegation:`);
      if (ctx.values.shadow === true) {
        const m = doc as Record<string, unknown>;
        const extraKey = Object.keys(m).find((k) => k !== 'rateLimits' && k !== 'shadowRateLimits');
        if (extraKey !== undefined) throw new CtlError('usage', `${file}: ${extraKey} cannot be shadowed (with --shadow give rateLimits: only)`);
        const limits = m.shadowRateLimits ?? m.rateLimits;
        if (limits === undefined) throw new CtlError('usage', `${file} has no rateLimits: to store as shadow rate limits`);
        const version = wholeNumber(ctx, 'version') ?? (await ctx.conn.call('GetLimits', {})).version;
        const res: Limits__Output = await ctx.conn.call('SetLimits', {
          version,
          rateLimitsJson: JSON.stringify(limits ?? {}),
          delegationJson: '',
          shadow: true,
        });
        ctx.io.stdout(ctx.json ? json(limitsJson(res)) : `shadow rate limits set (limits version ${res.version}); see tollgate ctl limits diff\n`);
        return;
      }
      const extra = Object.keys(doc).filter((k) => k !== 'rateLimits' && k !== 'delegation');
      if (extra.length > 0) throw new CtlError('usage', `${file}: unknown key ${extra[0]} (expected rateLimits and/or delegation)`);
      const d = doc as { rateLimits?: unknown; delegation?: unknown };
      if (d.rateLimits === undefined && d.delegation === undefined) throw new CtlError('usage', `${file} sets neither rateLimits nor delegation`);
      const version = wholeNumber(ctx, 'version') ?? (await ctx.conn.call('GetLimits', {})).version;
      const res: Limits__Output = await ctx.conn.call('SetLimits', {
        version,
        rateLimitsJson: d.rateLimits === undefined ? '' : JSON.stringify(d.rateLimits ?? {}),
        delegationJson: d.delegation === undefined ? '' : JSON.stringify(d.delegation ?? {}),
      });
      if (ctx.json) {
        ctx.io.stdout(json(limitsJson(res)));
        return;
      }
      ctx.io.stdout(`limits set (limits version ${res.version})\n`);
    },
  },
  {
    path: ['limits', 'diff'],
    args: '[--limit N]',
    summary: 'calls the shadow rate limits would decide differently (would_limit, would_allow), counted by the gateway that answers',
    details:
      'Counts are kept by each replica since the rate limits or their shadow last changed (tollgate_limits_shadow_diff_total is the metric); NOW and SHADOW name the limit that refuses (caller, edge, concurrency).',
    options: { limit: { type: 'string', value: 'N', desc: 'recent differing calls to show (default 20, at most 1000)' } },
    async run(ctx) {
      const res: PolicyDiff__Output = await ctx.conn.call('GetLimitsDiff', { limit: wholeNumber(ctx, 'limit', 1) ?? 0 });
      printShadowDiff(ctx, res, 'limits');
    },
  },
  {
    path: ['limits', 'promote'],
    args: '[--version N]',
    summary: 'make the shadow rate limits the enforced rateLimits (one versioned write)',
    details:
      'Without --version the current version is read first; pass the version `limits diff` showed to be refused if the limits or their shadow changed since.',
    options: { version: VERSION_OPT },
    async run(ctx) {
      const version = wholeNumber(ctx, 'version') ?? (await ctx.conn.call('GetLimits', {})).version;
      const res: Limits__Output = await ctx.conn.call('PromoteShadowLimits', { version });
      ctx.io.stdout(ctx.json ? json(limitsJson(res)) : `shadow rate limits promoted: now enforced (limits version ${res.version})\n`);
    },
  },
  {
    path: ['limits', 'shadow', 'clear'],
    args: '[--version N]',
    summary: 'drop the shadow rate limits (the enforced rateLimits stay)',
    options: { version: VERSION_OPT },
    async run(ctx) {
      const version = wholeNumber(ctx, 'version') ?? (await ctx.conn.call('GetLimits', {})).version;
      const res: Limits__Output = await ctx.conn.call('ClearShadowLimits', { version });
      ctx.io.stdout(ctx.json ? json(limitsJson(res)) : `shadow rate limits cleared (limits version ${res.version})\n`);
    },
  },
  {
    path: ['settings', 'reset'],
    args: '[--agents] [--policy] [--limits]',
    summary: "go back to the config file: the sections saved through ctl stop replacing the file's",
    details:
      "agents, policy and limits set through ctl are saved and replace the config file's sections, also after a restart.\n" +
      "This resets the named sections (all three when none is named) together: the file's agents:, policy:, rateLimits: and\n" +
      'delegation: apply at once and on every later start, until the next ctl write. Refused, with nothing changed, when the\n' +
      'result would not be a valid config (e.g. the saved policy names an agent only the saved registry has: reset both).',
    options: {
      agents: { type: 'boolean', desc: 'the agent registry (agents put/remove)' },
      policy: { type: 'boolean', desc: 'the allow rules (policy set)' },
      limits: { type: 'boolean', desc: 'rateLimits and delegation (limits set)' },
    },
    async run(ctx) {
      const sections = (['agents', 'policy', 'limits'] as const).filter((s) => ctx.values[s] === true);
      const res = await ctx.conn.call('ResetSettings', { sections });
      const versions = { agents: res.agentsVersion, policy: res.policyVersion, limits: res.limitsVersion };
      if (ctx.json) {
        ctx.io.stdout(json({ reset: res.reset, versions }));
        return;
      }
      const asked = sections.length > 0 ? sections : ['agents', 'policy', 'limits'];
      if (res.reset.length === 0) ctx.io.stdout(`nothing to reset: ${asked.join(', ')} already come${asked.length === 1 ? 's' : ''} from the config file\n`);
      else
        ctx.io.stdout(
          `${res.reset.join(', ')} reset: the config file's section${res.reset.length === 1 ? '' : 's'} appl${res.reset.length === 1 ? 'ies' : 'y'} again\n`,
        );
    },
  },
  {
    path: ['revoke'],
    args: '(--spiffe-id ID | --serial HEX) [--reason TEXT]',
    summary: 'revoke every certificate of an identity, or one certificate by serial',
    options: {
      'spiffe-id': { type: 'string', value: 'ID', desc: 'revoke every certificate issued to this identity (it cannot renew)' },
      serial: { type: 'string', value: 'HEX', desc: 'revoke one certificate (see tollgate ctl certs list)' },
      reason: { type: 'string', value: 'TEXT', desc: 'recorded in the audit log' },
    },
    async run(ctx) {
      const spiffeId = str(ctx, 'spiffe-id');
      const serial = str(ctx, 'serial');
      if ((spiffeId === undefined) === (serial === undefined)) throw new CtlError('usage', 'give exactly one of --spiffe-id ID or --serial HEX');
      const res = await ctx.conn.call('Revoke', { spiffeId: spiffeId ?? '', serial: serial ?? '', reason: str(ctx, 'reason') ?? '' });
      if (ctx.json) {
        ctx.io.stdout(json({ certificatesRevoked: res.certificatesRevoked }));
        return;
      }
      ctx.io.stdout(spiffeId ? `revoked ${spiffeId}: ${res.certificatesRevoked} certificate(s)\n` : `revoked certificate ${serial}\n`);
    },
  },
  {
    path: ['certs', 'list'],
    args: '[--spiffe-id ID] [--limit N]',
    summary: 'list issued certificates, newest first',
    options: {
      'spiffe-id': { type: 'string', value: 'ID', desc: 'only certificates of this identity' },
      limit: { type: 'string', value: 'N', desc: 'at most N certificates (default 100)' },
    },
    async run(ctx) {
      const res = await ctx.conn.call('ListCertificates', { spiffeId: str(ctx, 'spiffe-id') ?? '', limit: wholeNumber(ctx, 'limit', 1) ?? 0 });
      const certs: Certificate__Output[] = res.certificates;
      if (ctx.json) {
        ctx.io.stdout(
          json(
            certs.map((c) => ({
              serial: c.serial,
              spiffeId: c.spiffeId,
              notBefore: c.notBeforeUnixMs,
              notAfter: c.notAfterUnixMs,
              issuedAt: c.issuedAtUnixMs,
              revoked: c.revoked,
            })),
          ),
        );
        return;
      }
      if (certs.length === 0) {
        ctx.io.stdout('no certificates\n');
        return;
      }
      ctx.io.stdout(
        table(
          ['SERIAL', 'SPIFFE ID', 'ISSUED', 'EXPIRES', 'STATUS'],
          certs.map((c) => [
            c.serial,
            c.spiffeId,
            time(c.issuedAtUnixMs),
            time(c.notAfterUnixMs),
            c.revoked ? 'revoked' : c.notAfterUnixMs < Date.now() ? 'expired' : 'valid',
          ]),
        ),
      );
    },
  },
  {
    path: ['graph'],
    args: '[--task ID] [--dot]',
    summary: 'print the call graph: the aggregate caller -> callee graph, or one root task tree',
    details: 'JSON by default; --dot prints Graphviz (pipe to `dot -Tsvg`).',
    options: {
      task: { type: 'string', value: 'ID', desc: 'one root task tree instead of the aggregate graph' },
      dot: { type: 'boolean', desc: 'Graphviz DOT instead of JSON' },
    },
    async run(ctx) {
      const dot = ctx.values.dot === true;
      const res = await ctx.conn.call('GetCallGraph', { taskId: str(ctx, 'task') ?? '', format: dot ? 'dot' : 'json' });
      if (dot) {
        ctx.io.stdout(res.dot.endsWith('\n') ? res.dot : `${res.dot}\n`);
        return;
      }
      ctx.io.stdout(json(JSON.parse(res.json)));
    },
  },
  {
    path: ['task', 'cancel'],
    args: 'TASK_ID [--reason TEXT]',
    summary: 'cancel a root task: further calls in its tree are refused',
    positionals: { min: 1, max: 1, names: 'TASK_ID' },
    options: { reason: { type: 'string', value: 'TEXT', desc: 'recorded in the audit log' } },
    async run(ctx) {
      const taskId = ctx.positionals[0];
      const res = await ctx.conn.call('CancelTask', { taskId, reason: str(ctx, 'reason') ?? '' });
      if (ctx.json) {
        ctx.io.stdout(json({ taskId, cancelled: res.cancelled }));
        return;
      }
      if (!res.cancelled) throw new CtlError('failed', `no running root task ${taskId} (see tollgate ctl graph)`);
      ctx.io.stdout(`task ${taskId} cancelled\n`);
    },
  },
  {
    path: ['watch'],
    args: '[--agent A]... [--kind K]... [--count N]',
    summary: 'stream audit events as they happen (Ctrl-C to stop)',
    details:
      "Kinds: call, refusal, issuance, revocation, config, task. --agent matches the callee, the caller's SPIFFE ID or its last path segment.\nWith --json, one JSON record per line.",
    options: {
      agent: { type: 'string', multiple: true, value: 'A', desc: 'only events about this agent (repeat or comma-separate)' },
      kind: { type: 'string', multiple: true, value: 'K', desc: 'only events of this kind (repeat or comma-separate)' },
      count: { type: 'string', value: 'N', desc: 'exit after N events' },
    },
    async run(ctx) {
      const count = wholeNumber(ctx, 'count', 1);
      const stream = ctx.conn.stream('WatchEvents', { agents: list(ctx, 'agent'), kinds: list(ctx, 'kind') });
      let seen = 0;
      let stopping = false;
      let stop = () => {};
      try {
        await new Promise<void>((resolve, reject) => {
          stop = () => {
            stopping = true;
            stream.cancel();
            resolve();
          };
          stream.on('data', (e: Event__Output) => {
            if (stopping) return;
            if (ctx.json) ctx.io.stdout(`${e.json}\n`);
            else ctx.io.stdout(`${time(e.timeUnixMs)}  ${e.kind.padEnd(10)}  ${e.actor}${e.agent ? ` -> ${e.agent}` : ''}  ${e.summary}\n`);
            if (count !== undefined && ++seen >= count) stop();
          });
          stream.on('error', (err) => (stopping ? resolve() : reject(err)));
          stream.on('end', () => {
            if (!stopping) ctx.io.stderr('the gateway ended the event stream (shutting down?)\n');
            resolve();
          });
          // After the listeners: a cancel always has someone to report to.
          if (ctx.signal.aborted) stop();
          else ctx.signal.addEventListener('abort', stop, { once: true });
        });
      } finally {
        ctx.signal.removeEventListener('abort', stop);
      }
    },
  },
];
