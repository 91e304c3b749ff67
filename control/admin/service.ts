/**
 * tollgate.v1.Admin. Each handler: validate the request with the config's schemas, decide, then (for
 * writes) validate the whole resulting config, apply it to the running gateway, persist it, and publish a
 * 'config' event naming the admin. Authorization is not here: withAdminAuth (authorize.ts) runs before any
 * handler. Errors are mapped in errors.ts.
 *
 * Write order (one write at a time inside a process: writes queue behind each other):
 *   sync with the store -> version check -> validate -> applyConfig -> settings.put (atomic version
 *   check again, in the store: another replica may have written meanwhile) -> event.
 * If the store refuses after the gateway took the change, the previous config is applied back, so the
 * running gateway and the store never disagree.
 */
import { Metadata } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import type { CertificateAuthority, IssuedRecord } from '../../ca/api.js';
import type { Config } from '../../config/schema.js';
import { ConfigError, formatIssues } from '../../config/load.js';
import { parseDuration } from '../../config/duration.js';
import { parseSpiffeId, parseWorkloadId } from '../../certs/spiffe-id.js';
import { normalizeSerial } from '../../certs/svid.js';
import { CertError } from '../../certs/errors.js';
import { stderrLog, type ErrorLog } from '../unary.js';
import { AdminError, mapAdminError, toAdminServiceError } from './errors.js';
import { adminAuthorizer, nativeTlsPeerOf, withAdminAuth, type AdminHandlers, type PeerOf } from './authorize.js';
import { EVENT_KINDS, type EventBus, type EventKind, type TollgateEvent } from './events.js';
import { SETTINGS_SECTIONS, staleVersion, versionOf, type SettingsSection, type SettingsStore } from './settings-store.js';
import { sectionValue, validateConfig, withSection, type SectionVersions } from './overlay.js';
import { agentFromMsg, agentToMsg, limitsFromMsg, limitsToMsg, ruleToMsg, rulesFromMsg, shadowLimitsFromMsg, versionArg } from './convert.js';
import { adminServerDefinition, type PolicyDiff, type PolicyExplanation } from '../../protocol/admin.js';

export interface CallGraphSource {
  /** aggregate graph (no taskId) or one root task's tree; undefined = unknown task */
  json(taskId?: string): unknown;
  dot(taskId?: string): string | undefined;
}

export interface AdminServiceDeps {
  authority: CertificateAuthority;
  /** SPIFFE IDs allowed to call the admin API (read per call: config reloads take effect at once) */
  admins: () => string[];
  trustDomain: string;
  getConfig(): Config;
  /** the config file as last read, without the saved sections (what ResetSettings goes back to) */
  fileConfig(): Config;
  /** make `next` the running config (the proxy's reloadConfig); throw to refuse it */
  applyConfig(next: Config, actor: string): void;
  settings: SettingsStore;
  /**
   * Bring the running config up to the store (another replica may have written since the last poll) and
   * return the section versions it was built from. Without it, the store's versions are read as they are.
   */
  syncSettings?(): Promise<SectionVersions>;
  /** the versions the running config was built from, without asking the store (reads during an outage) */
  appliedSettings?(): SectionVersions;
  /** this process saved `section` at `version` (and applied it): the sync above need not apply it again */
  settingsWritten?(section: SettingsSection, version: number): void;
  graph: CallGraphSource;
  /**
   * `ctl policy explain`: would this call be allowed by `config` (the running config, or it with the shadow
   * rules as its policy), and what decides it (gateway/policy-explain.ts). Absent: ExplainPolicy is refused.
   */
  explain?(config: Config, query: ExplainQuery): PolicyExplanation;
  /** `ctl policy diff`: the calls the shadow rules would decide differently, counted here (proxy/shadow.ts) */
  policyDiff?(limit: number): Pick<PolicyDiff, 'sinceUnixMs' | 'evaluated' | 'counts' | 'recent'>;
  /** `ctl limits diff`: the calls the shadow rate limits would decide differently (proxy/ratelimit/shadow.ts) */
  limitsDiff?(limit: number): Pick<PolicyDiff, 'sinceUnixMs' | 'evaluated' | 'counts' | 'recent'>;
  /** the kill switch; resolves (or returns) whether a task of that id was known (here, or fleet-wide) */
  cancelTask(taskId: string, actor: string): boolean | Promise<boolean>;
  events: EventBus;
  now?: () => number;
  /**
   * How to find the caller's validated SVID. Default: read the chain from grpc-js's TLS socket and
   * validateSvid against authority.bundleDer(). Pass the control server's peer registry when it
   * terminates TLS itself.
   */
  peerOf?: PeerOf;
  log?: ErrorLog;
  /** events a WatchEvents client may fall behind before it is disconnected (default 1024) */
  watchBuffer?: number;
}

/** A described call for ExplainPolicy (validated: SPIFFE IDs canonical). */
export interface ExplainQuery {
  from: string;
  to: string;
  method?: string;
  chain: string[];
}

const MAX_CERT_LIST = 10_000;
const MAX_DIFF_LIST = 1000;
const MAX_CHAIN = 64;
const DEFAULT_CERT_LIST = 100;
const MAX_TASK_ID = 256;
const MAX_REASON = 512;

function text(v: unknown, field: string, max = 4096): string {
  const s = typeof v === 'string' ? v.trim() : '';
  if (s.length > max) throw new AdminError('invalid_argument', `${field} is longer than ${max} characters`);
  return s;
}

function certToMsg(r: IssuedRecord) {
  return {
    serial: r.serial,
    spiffeId: r.spiffeId,
    notBeforeUnixMs: r.notBefore,
    notAfterUnixMs: r.notAfter,
    issuedAtUnixMs: r.issuedAt,
    revoked: r.revoked,
  };
}

export function eventToMsg(e: TollgateEvent) {
  return { timeUnixMs: e.time, kind: e.kind, actor: e.actor, agent: e.agent ?? '', summary: e.summary, json: JSON.stringify(e) };
}

/** The Admin service handlers, authorization excluded (see createAdminService). Exported for tests. */
export function adminHandlers(deps: AdminServiceDeps): AdminHandlers {
  const now = deps.now ?? Date.now;
  const { settings, events, authority } = deps;

  // every admin change (config, join tokens, revocations, task cancellations) is also an application log line
  // naming who made it; the watchers' event carries the same facts
  const publish = (e: Omit<TollgateEvent, 'time'>) => {
    deps.log?.info?.({ event: e.kind, actor: e.actor, ...(e.agent ? { agent: e.agent } : {}), ...(e.data ? { data: e.data } : {}) }, `admin: ${e.summary}`);
    events.publish({ time: now(), ...e });
  };

  const agentNameFor = (spiffeId: string): string | undefined => {
    for (const [name, a] of Object.entries(deps.getConfig().agents)) if (a.id === spiffeId) return name;
    return undefined;
  };

  const apply = (next: Config, actor: string) => {
    try {
      deps.applyConfig(next, actor);
    } catch (err) {
      if (err instanceof ConfigError) throw new AdminError('failed_precondition', `the gateway refused the change: ${err.message}`, { cause: err });
      throw new AdminError('internal', 'applying the change failed', { cause: err });
    }
  };

  /**
   * Replace one settings section. `expected` undefined = unconditional (used for single-agent edits,
   * which merge by name). `onInvalid` turns whole-config issues into the error the caller should see.
   */
  const appliedVersion = async (section: SettingsSection): Promise<number> =>
    deps.syncSettings ? (await deps.syncSettings())[section] : versionOf(settings, section);
  /** for reads: the latest when the store answers, else what is running (an outage must not hide the policy) */
  const shownVersion = (section: SettingsSection): Promise<number> => {
    if (!deps.appliedSettings) return appliedVersion(section);
    return appliedVersion(section).catch(() => deps.appliedSettings?.()[section] ?? 0);
  };

  // Writes of this process queue here: each one's version check, apply and put see the previous one's result.
  let writing: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = writing.then(fn, fn);
    writing = result.catch(() => undefined);
    return result;
  };

  const write = async (
    actor: string,
    section: SettingsSection,
    expected: number | undefined,
    build: (cfg: Config) => unknown,
    describe: { summary: string; agent?: string; data?: Record<string, unknown> },
    onInvalid?: (issues: { path: PropertyKey[]; message: string }[]) => AdminError,
  ): Promise<{ config: Config; version: number }> => {
    const current = await appliedVersion(section);
    if (expected !== undefined && expected !== current) throw staleVersion(section, expected, current);
    const base = deps.getConfig();
    const checked = validateConfig(withSection(base, section, build(base)));
    if (!checked.ok) {
      throw onInvalid?.(checked.issues) ?? new AdminError('invalid_argument', `invalid ${section}: ${formatIssues(checked.issues)}`);
    }
    apply(checked.config, actor);
    let version: number;
    try {
      version = await settings.put(section, sectionValue(checked.config, section), current, { actor, now: now() });
    } catch (err) {
      deps.applyConfig(base, actor);
      throw err;
    }
    deps.settingsWritten?.(section, version);
    publish({
      kind: 'config',
      actor,
      agent: describe.agent,
      summary: `${describe.summary} (${section} version ${version})`,
      data: { section, version, ...describe.data },
    });
    return { config: checked.config, version };
  };

  const commit = (...args: Parameters<typeof write>) => oneAtATime(() => write(...args));

  /**
   * Saved sections back to the config file's, together (the result is validated as a whole, so agents and
   * a policy naming them go back in one step). Each is saved as null with its version moved on: the file's
   * section applies on every later start, and other replicas see the change like any write.
   */
  const reset = async (actor: string, asked: readonly SettingsSection[]): Promise<SettingsSection[]> => {
    if (deps.syncSettings) await deps.syncSettings();
    const saved: { section: SettingsSection; version: number }[] = [];
    for (const section of asked) {
      const row = await settings.get(section);
      if (row && row.value !== null) saved.push({ section, version: row.version });
    }
    if (saved.length === 0) return [];
    const base = deps.getConfig();
    const file = deps.fileConfig();
    const backTo = (sections: readonly SettingsSection[]) =>
      validateConfig(sections.reduce<Record<string, unknown>>((cfg, s) => withSection(cfg as Config, s, sectionValue(file, s)), base));
    const names = saved.map((s) => s.section);
    const checked = backTo(names);
    if (!checked.ok) {
      throw new AdminError(
        'failed_precondition',
        `resetting ${names.join(', ')} to the config file would leave an invalid config: ${formatIssues(checked.issues)}. ` +
          'Reset the sections that depend on each other together (e.g. agents and policy), or fix the config file first',
      );
    }
    apply(checked.config, actor);
    const done: SettingsSection[] = [];
    try {
      for (const { section, version } of saved) {
        const next = await settings.put(section, null, version, { actor, now: now() });
        deps.settingsWritten?.(section, next);
        done.push(section);
      }
    } catch (err) {
      // the running config follows what the store holds: the sections reset so far, and no others
      const partial = backTo(done);
      deps.applyConfig(partial.ok ? partial.config : base, actor);
      throw err;
    }
    publish({ kind: 'config', actor, summary: `settings reset to the config file: ${names.join(', ')}`, data: { reset: names } });
    return names;
  };

  const handlers: Required<AdminHandlers> = {
    async CreateJoinToken(req, { actor }) {
      const raw = text(req.spiffeId, 'spiffe_id');
      if (!raw)
        throw new AdminError('invalid_argument', 'spiffe_id is empty: name the identity the token will issue, e.g. spiffe://<trust-domain>/agent/writer');
      const id = parseWorkloadId(raw).uri;
      if (!id.startsWith(`spiffe://${deps.trustDomain}/`)) {
        throw new AdminError('invalid_argument', `spiffe_id ${id} is not in this CA's trust domain ${deps.trustDomain}`);
      }
      const ttlText = text(req.ttl, 'ttl', 32);
      let ttlMs: number | undefined;
      if (ttlText) {
        const ms = parseDuration(ttlText);
        if (ms === null || ms <= 0) throw new AdminError('invalid_argument', `ttl: expected a duration like "10m" or "1h", got ${JSON.stringify(ttlText)}`);
        ttlMs = ms;
      }
      const { token, expiresAt } = await authority.createJoinToken(id, ttlMs);
      // Never the token itself: the audit log must not hold a usable credential.
      publish({
        kind: 'issuance',
        actor,
        agent: agentNameFor(id),
        summary: `join token created for ${id}`,
        data: { action: 'join_token_created', spiffeId: id, expiresAt },
      });
      return { token, expiresAtUnixMs: expiresAt, spiffeId: id };
    },

    async ListAgents() {
      const version = await shownVersion('agents');
      const agents = Object.entries(deps.getConfig().agents).map(([name, a]) => agentToMsg(name, a));
      agents.sort((a, b) => a.name.localeCompare(b.name));
      return { agents, version };
    },

    async PutAgent(req, { actor }) {
      const expected = req.expectedVersion === undefined ? undefined : versionArg(req.expectedVersion, 'expected_version');
      const { name, agent } = agentFromMsg(req.agent);
      const created = !(name in deps.getConfig().agents);
      const { config, version } = await commit(actor, 'agents', expected, (cfg) => ({ ...cfg.agents, [name]: agent }), {
        summary: `agent ${name} ${created ? 'registered' : 'updated'}`,
        agent: name,
        data: { op: created ? 'create' : 'update', name, agent },
      });
      return { agent: agentToMsg(name, config.agents[name]), version, created };
    },

    async RemoveAgent(req, { actor }) {
      const expected = req.expectedVersion === undefined ? undefined : versionArg(req.expectedVersion, 'expected_version');
      const name = text(req.name, 'name', 64);
      if (!name) throw new AdminError('invalid_argument', 'name is empty: name the agent to remove');
      const applied = await appliedVersion('agents');
      if (!(name in deps.getConfig().agents)) return { removed: false, version: applied };
      const { version } = await commit(
        actor,
        'agents',
        expected,
        (cfg) => Object.fromEntries(Object.entries(cfg.agents).filter(([n]) => n !== name)),
        { summary: `agent ${name} removed`, agent: name, data: { op: 'remove', name } },
        (issues) =>
          new AdminError(
            'failed_precondition',
            `agent ${name} is still named by the policy (${issues.map((i) => i.path.map(String).join('.')).join(', ')}): remove it from the policy first (tollgate ctl policy set)`,
          ),
      );
      return { removed: true, version };
    },

    async GetPolicy() {
      const version = await shownVersion('policy');
      return policyMsg(deps.getConfig(), version);
    },

    async SetPolicy(req, { actor }) {
      const expected = versionArg(req.version);
      const rules = rulesFromMsg(req.rules);
      const n = `${rules.length} rule${rules.length === 1 ? '' : 's'}`;
      // the policy section holds the shadow rules too (overlay.ts): each write keeps the other half
      const { config, version } = req.shadow
        ? await commit(actor, 'policy', expected, (cfg) => ({ policy: cfg.policy, shadowPolicy: rules }), {
            summary: `shadow policy set: ${n} (counted, not enforced)`,
            data: { shadowRules: rules },
          })
        : await commit(actor, 'policy', expected, (cfg) => ({ policy: rules, shadowPolicy: cfg.shadowPolicy }), {
            summary: `policy set: ${n}`,
            data: { rules },
          });
      return policyMsg(config, version);
    },

    async PromoteShadowPolicy(req, { actor }) {
      const expected = versionArg(req.version);
      const { config, version } = await commit(actor, 'policy', expected, (cfg) => ({ policy: shadowOf(cfg, 'promote'), shadowPolicy: undefined }), {
        summary: 'shadow policy promoted: its rules are now enforced',
      });
      return policyMsg(config, version);
    },

    async ClearShadowPolicy(req, { actor }) {
      const expected = versionArg(req.version);
      const { config, version } = await commit(
        actor,
        'policy',
        expected,
        (cfg) => {
          shadowOf(cfg, 'clear');
          return { policy: cfg.policy, shadowPolicy: undefined };
        },
        { summary: 'shadow policy cleared' },
      );
      return policyMsg(config, version);
    },

    ExplainPolicy(req) {
      if (!deps.explain) throw new AdminError('failed_precondition', 'this gateway does not explain policy decisions');
      const from = text(req.from, 'from');
      const to = text(req.to, 'to', 64);
      if (!from) throw new AdminError('invalid_argument', 'from is empty: name the caller, e.g. spiffe://<trust-domain>/agent/researcher');
      if (!to) throw new AdminError('invalid_argument', 'to is empty: name the callee agent, e.g. writer');
      const chain = (req.chain ?? []).map((c) => text(c, 'chain')).filter((c) => c !== '');
      if (chain.length > MAX_CHAIN) throw new AdminError('invalid_argument', `chain has more than ${MAX_CHAIN} hops`);
      const method = text(req.method, 'method', 128) || undefined;
      const cfg = deps.getConfig();
      const config = req.shadow ? { ...cfg, policy: shadowOf(cfg, 'explain') } : cfg;
      return deps.explain(config, { from: parseSpiffeId(from).uri, to, method, chain: chain.map((c) => parseSpiffeId(c).uri) });
    },

    async GetPolicyDiff(req) {
      const limit = req.limit ?? 0;
      if (!Number.isInteger(limit) || limit < 0 || limit > MAX_DIFF_LIST)
        throw new AdminError('invalid_argument', `limit must be 0..${MAX_DIFF_LIST} (0 = 20)`);
      const version = await shownVersion('policy');
      const hasShadow = deps.getConfig().shadowPolicy !== undefined;
      const diff = deps.policyDiff?.(limit || 20) ?? { sinceUnixMs: 0, evaluated: 0, counts: [], recent: [] };
      return { hasShadow, version, ...diff };
    },

    async GetLimits() {
      const version = await shownVersion('limits');
      return limitsToMsg(deps.getConfig(), version);
    },

    async SetLimits(req, { actor }) {
      const expected = versionArg(req.version);
      await appliedVersion('limits'); // limitsFromMsg fills unset fields from the running config: bring it up to date first
      // the limits section holds the shadow rate limits too (overlay.ts): each write keeps the other half
      if (req.shadow) {
        const shadowRateLimits = shadowLimitsFromMsg(req);
        const { config, version } = await commit(actor, 'limits', expected, (cfg) => ({ ...limitsOf(cfg), shadowRateLimits }), {
          summary: 'shadow rate limits set (counted, not enforced)',
          data: { shadowRateLimits },
        });
        return limitsToMsg(config, version);
      }
      const next = limitsFromMsg(req, deps.getConfig());
      const { config, version } = await commit(actor, 'limits', expected, (cfg) => ({ ...next, shadowRateLimits: cfg.shadowRateLimits }), {
        summary: 'rate limits and budgets set',
        data: next,
      });
      return limitsToMsg(config, version);
    },

    async PromoteShadowLimits(req, { actor }) {
      const expected = versionArg(req.version);
      const { config, version } = await commit(
        actor,
        'limits',
        expected,
        (cfg) => ({ rateLimits: shadowLimitsOf(cfg, 'promote'), delegation: cfg.delegation, shadowRateLimits: undefined }),
        { summary: 'shadow rate limits promoted: they are now enforced' },
      );
      return limitsToMsg(config, version);
    },

    async ClearShadowLimits(req, { actor }) {
      const expected = versionArg(req.version);
      const { config, version } = await commit(
        actor,
        'limits',
        expected,
        (cfg) => {
          shadowLimitsOf(cfg, 'clear');
          return { ...limitsOf(cfg), shadowRateLimits: undefined };
        },
        { summary: 'shadow rate limits cleared' },
      );
      return limitsToMsg(config, version);
    },

    async GetLimitsDiff(req) {
      const limit = req.limit ?? 0;
      if (!Number.isInteger(limit) || limit < 0 || limit > MAX_DIFF_LIST)
        throw new AdminError('invalid_argument', `limit must be 0..${MAX_DIFF_LIST} (0 = 20)`);
      const version = await shownVersion('limits');
      const hasShadow = deps.getConfig().shadowRateLimits !== undefined;
      const diff = deps.limitsDiff?.(limit || 20) ?? { sinceUnixMs: 0, evaluated: 0, counts: [], recent: [] };
      return { hasShadow, version, ...diff };
    },

    async ResetSettings(req, { actor }) {
      const asked = (req.sections ?? []).map((x) => x.trim()).filter((x) => x !== '');
      for (const x of asked) {
        if (!(SETTINGS_SECTIONS as readonly string[]).includes(x)) {
          throw new AdminError('invalid_argument', `sections: unknown section ${JSON.stringify(x)} (one of ${SETTINGS_SECTIONS.join(', ')})`);
        }
      }
      const sections = asked.length === 0 ? SETTINGS_SECTIONS : SETTINGS_SECTIONS.filter((x) => asked.includes(x));
      const done = await oneAtATime(() => reset(actor, sections));
      const v = await settings.versions();
      return { reset: done, agentsVersion: v.agents, policyVersion: v.policy, limitsVersion: v.limits };
    },

    async Revoke(req, { actor }) {
      const spiffeId = text(req.spiffeId, 'spiffe_id');
      const serialText = text(req.serial, 'serial', 128);
      const reason = text(req.reason, 'reason', MAX_REASON) || undefined;
      if ((spiffeId === '') === (serialText === '')) {
        throw new AdminError('invalid_argument', 'set exactly one of spiffe_id (revoke every certificate of an identity) or serial (one certificate)');
      }
      if (spiffeId) {
        const id = parseSpiffeId(spiffeId).uri;
        const n = await authority.revokeIdentity(id, reason);
        publish({
          kind: 'revocation',
          actor,
          agent: agentNameFor(id),
          summary: `identity ${id} revoked (${n} certificate${n === 1 ? '' : 's'})`,
          data: { spiffeId: id, certificates: n, reason },
        });
        return { certificatesRevoked: n };
      }
      if (!/^[0-9a-fA-F:]+$/.test(serialText))
        throw new AdminError('invalid_argument', `serial must be hexadecimal (colons allowed), got ${JSON.stringify(serialText)}`);
      const serial = normalizeSerial(serialText);
      await authority.revokeSerial(serial, reason);
      publish({ kind: 'revocation', actor, summary: `certificate ${serial} revoked`, data: { serial, reason } });
      return { certificatesRevoked: 1 };
    },

    async ListCertificates(req) {
      const raw = text(req.spiffeId, 'spiffe_id');
      const limit = req.limit ?? 0;
      if (!Number.isInteger(limit) || limit < 0 || limit > MAX_CERT_LIST)
        throw new AdminError('invalid_argument', `limit must be 0..${MAX_CERT_LIST} (0 = ${DEFAULT_CERT_LIST})`);
      const records = await authority.listIssued({ spiffeId: raw ? parseSpiffeId(raw).uri : undefined, limit: limit || DEFAULT_CERT_LIST });
      return { certificates: records.map(certToMsg) };
    },

    GetCallGraph(req) {
      const taskId = text(req.taskId, 'task_id', MAX_TASK_ID) || undefined;
      const format = text(req.format, 'format', 8) || 'json';
      if (format !== 'json' && format !== 'dot') throw new AdminError('invalid_argument', `format must be "json" or "dot", got ${JSON.stringify(format)}`);
      const notFound = () =>
        new AdminError(
          'not_found',
          taskId ? `no task ${taskId} in the recent call graph (only the last graph.recentTasks root tasks are kept)` : 'no call graph is available',
        );
      if (format === 'dot') {
        const dot = deps.graph.dot(taskId);
        if (dot === undefined) throw notFound();
        return { json: '', dot };
      }
      const value = deps.graph.json(taskId);
      if (value === undefined) throw notFound();
      return { json: JSON.stringify(value), dot: '' };
    },

    async CancelTask(req, { actor }) {
      const taskId = text(req.taskId, 'task_id', MAX_TASK_ID);
      if (!taskId) throw new AdminError('invalid_argument', 'task_id is empty: name the root task to cancel (see tollgate ctl graph)');
      const reason = text(req.reason, 'reason', MAX_REASON) || undefined;
      const cancelled = await deps.cancelTask(taskId, actor);
      if (cancelled) publish({ kind: 'task', actor, summary: `root task ${taskId} cancelled`, data: { taskId, reason } });
      return { cancelled };
    },

    WatchEvents(req, { call }) {
      const kinds = (req.kinds ?? []).map((k) => k.trim()).filter((k) => k !== '');
      for (const k of kinds) {
        if (!(EVENT_KINDS as readonly string[]).includes(k)) {
          throw new AdminError('invalid_argument', `kinds: unknown event kind ${JSON.stringify(k)} (one of ${EVENT_KINDS.join(', ')})`);
        }
      }
      const agents = (req.agents ?? []).map((a) => a.trim()).filter((a) => a !== '');
      let ended = false;
      const sub = events.subscribe(
        { agents, kinds: kinds as EventKind[] },
        {
          write: (e) => call.write(eventToMsg(e)),
          dropped: (reason) => {
            ended = true;
            call.emit('error', toAdminServiceError(new AdminError('too_slow', reason)));
          },
          end: () => {
            ended = true;
            call.end();
          },
        },
        { maxBuffered: deps.watchBuffer },
      );
      call.on('drain', () => sub.resume());
      const stop = () => sub.close();
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
      // Headers now: the client knows the subscription is live before the first event.
      if (!ended) call.sendMetadata(new Metadata());
    },
  };
  return handlers;
}

/**
 * The Admin service, every method behind the admin check. Shaped like startControlServer's extraServices:
 * when the control server passes its context, its peer registry (`ctx.peerOf`) identifies callers;
 * otherwise `deps.peerOf`, otherwise the chain read from grpc-js's own TLS socket.
 */
export function createAdminService(deps: AdminServiceDeps): (server: grpc.Server, ctx?: { peerOf?: PeerOf }) => void {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? stderrLog;
  const handlers = adminHandlers(deps);
  return (server, ctx) => {
    const peerOf = ctx?.peerOf ?? deps.peerOf ?? nativeTlsPeerOf({ bundleDer: () => deps.authority.bundleDer(), trustDomain: deps.trustDomain, now });
    const definition = adminServerDefinition();
    const impl = withAdminAuth(definition, handlers, {
      authorize: adminAuthorizer(peerOf, deps.admins, (serial, id) => deps.authority.isRevoked(serial, id)),
      toStatus: (err) => ({ error: toAdminServiceError(normalize(err)), hidden: mapAdminError(normalize(err)).hidden }),
      onHiddenError: (method, err) => log.error({ err, method }, `admin ${method} failed`),
    });
    server.addService(definition, impl);
  };
}

function policyMsg(cfg: Config, version: number) {
  return {
    version,
    rules: cfg.policy.map(ruleToMsg),
    hasShadow: cfg.shadowPolicy !== undefined,
    shadowRules: (cfg.shadowPolicy ?? []).map(ruleToMsg),
  };
}

/** The shadow rules, or the error saying there are none to `what`. */
function shadowOf(cfg: Config, what: string): NonNullable<Config['shadowPolicy']> {
  if (cfg.shadowPolicy === undefined) {
    throw new AdminError('failed_precondition', `no shadow policy is set, nothing to ${what}: set one with tollgate ctl policy set --file FILE --shadow`);
  }
  return cfg.shadowPolicy;
}

function limitsOf(cfg: Config): { rateLimits: Config['rateLimits']; delegation: Config['delegation'] } {
  return { rateLimits: cfg.rateLimits, delegation: cfg.delegation };
}

/** The shadow rate limits, or the error saying there are none to `what`. */
function shadowLimitsOf(cfg: Config, what: string): NonNullable<Config['shadowRateLimits']> {
  if (cfg.shadowRateLimits === undefined) {
    throw new AdminError(
      'failed_precondition',
      `no shadow rate limits are set, nothing to ${what}: set them with tollgate ctl limits set --file FILE --shadow`,
    );
  }
  return cfg.shadowRateLimits;
}

/** SPIFFE ID parse errors raised while reading a request are the caller's input, not a peer certificate. */
function normalize(err: unknown): unknown {
  if (err instanceof CertError && err.code === 'spiffe_id_invalid') return new AdminError('invalid_argument', err.message, { cause: err });
  return err;
}
