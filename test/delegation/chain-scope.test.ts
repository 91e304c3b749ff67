import { describe, expect, it } from 'vitest';
import { configSchemas, type ChainRule } from '../../config/schema.js';

const { chainCondition } = configSchemas();
import { checkChain, matchesPattern } from '../../governance/delegation/chain-policy.js';
import { decodeScope, narrowScope, parseScopeHeader, scopeViolation, type Scope } from '../../governance/delegation/scope.js';
import { openContext } from '../../governance/delegation/token.js';
import { canonicalMethod } from '../../proxy/a2a/methods.js';
import { answer, call, fakeClock, ID, makeConfig, makeStage } from './helpers.js';

const rule = (i: number, c: Record<string, unknown>): ChainRule => ({ ...chainCondition.parse(c), rule: i });

describe('chain-aware policy (pure)', () => {
  it('patterns: exact, or strictly under a /* prefix', () => {
    expect(matchesPattern(ID.alice, ID.alice)).toBe(true);
    expect(matchesPattern(ID.alice, 'spiffe://tollgate.local/user/*')).toBe(true);
    expect(matchesPattern('spiffe://tollgate.local/user', 'spiffe://tollgate.local/user/*')).toBe(false);
    expect(matchesPattern('spiffe://tollgate.local/username', 'spiffe://tollgate.local/user/*')).toBe(false);
  });

  it('initiator: the task must be started by a matching ID; the refusal names the rule and who started it', () => {
    const rules = [rule(2, { initiator: 'spiffe://tollgate.local/user/*' })];
    expect(checkChain(rules, [ID.alice, ID.orchestrator], 'writer')).toBeUndefined();
    const r = checkChain(rules, [ID.researcher], 'writer')!;
    expect(r.status).toBe(403);
    expect(r.reason).toBe('chain_not_allowed');
    expect(r.message).toContain('policy[2] needs a task started by spiffe://tollgate.local/user/*');
    expect(r.message).toContain(`started by ${ID.researcher}`);
    expect(r.data.rules).toEqual([{ rule: 2, failed: expect.stringContaining('needs a task started by') }]);
  });

  it('via: a hop before the caller must match (the initiator counts, the caller does not)', () => {
    const rules = [rule(0, { via: ID.orchestrator })];
    expect(checkChain(rules, [ID.alice, ID.orchestrator, ID.researcher], 'writer')).toBeUndefined();
    expect(checkChain(rules, [ID.orchestrator, ID.researcher], 'writer')).toBeUndefined();
    expect(checkChain(rules, [ID.researcher], 'writer')!.message).toContain('policy[0] needs spiffe://tollgate.local/agent/orchestrator on the chain');
    expect(checkChain(rules, [ID.alice, ID.orchestrator], 'writer')).toBeDefined(); // the orchestrator is the caller itself
  });

  it('notVia and maxDepth; any one rule satisfied allows', () => {
    const rules = [rule(0, { notVia: ID.bob }), rule(1, { maxDepth: 2 })];
    expect(checkChain(rules, [ID.alice, ID.orchestrator], 'writer')).toBeUndefined();
    expect(checkChain([rules[0]], [ID.bob, ID.orchestrator], 'writer')!.message).toContain(`forbids ${ID.bob}`);
    expect(checkChain([rules[1]], [ID.alice, ID.orchestrator, ID.researcher], 'writer')!.message).toContain('at most 2 hops');
    // rule 0 fails (bob on the chain) but rule 1 holds (depth 2)
    expect(checkChain(rules, [ID.bob, ID.orchestrator], 'writer')).toBeUndefined();
    const both = checkChain(rules, [ID.bob, ID.orchestrator, ID.researcher], 'writer')!;
    expect(both.message).toMatch(/policy\[0\] forbids .*; policy\[1\] allows at most 2 hops/);
  });

  it('a condition with nothing in it is refused by the config schema', () => {
    expect(() => chainCondition.parse({})).toThrow(/at least one of initiator, via, notVia, maxDepth/);
  });
});

describe('attenuation scope (pure)', () => {
  const now = 1_000_000;
  it('parses the header; every bad input gets one clear message', () => {
    const p = parseScopeHeader('agents=writer, reviewer; methods=message/send,GetTask; deadline=30s; maxCost=2.5', now, canonicalMethod);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect([...p.scope.agents!]).toEqual(['writer', 'reviewer']);
    expect([...p.scope.methods!]).toEqual(['SendMessage', 'GetTask']);
    expect(p.scope.deadline).toBe(now + 30_000);
    expect(p.scope.maxCost).toBe(2.5);
    expect(decodeScope(p.scope.text)).toEqual(p.scope);
    for (const [bad, msg] of [
      ['', 'names no limit'],
      ['agents', 'is not key=value'],
      ['colour=blue', 'unknown key "colour"'],
      ['methods=tasks/nuke', 'is not an A2A method'],
      ['agents=Writer!', 'is not an agent name'],
      ['deadline=soon', 'is not a positive duration'],
      ['maxCost=-1', 'is not a non-negative number'],
      ['agents=a; agents=b', 'agents is given twice'],
    ] as const) {
      const r = parseScopeHeader(bad, now, canonicalMethod);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.message).toContain(msg);
    }
  });

  it('narrowing never widens: agents and methods intersect, the earlier deadline and lower cost win', () => {
    const parent = (parseScopeHeader('agents=writer,reviewer; deadline=60s; maxCost=5', now, canonicalMethod) as { ok: true; scope: Scope }).scope;
    const asked = (
      parseScopeHeader('agents=writer,orchestrator; methods=SendMessage; deadline=10m; maxCost=1', now, canonicalMethod) as { ok: true; scope: Scope }
    ).scope;
    const s = narrowScope(parent, asked)!;
    expect([...s.agents!]).toEqual(['writer']);
    expect([...s.methods!]).toEqual(['SendMessage']);
    expect(s.deadline).toBe(now + 60_000);
    expect(s.maxCost).toBe(1);
    expect(narrowScope(parent, undefined)).toBe(parent);
    expect(scopeViolation(s, 'orchestrator', 'SendMessage', now, 0)).toContain('only to writer, not to "orchestrator"');
    expect(scopeViolation(s, 'writer', 'CancelTask', now, 0)).toContain('only the methods SendMessage, not CancelTask');
    expect(scopeViolation(s, 'writer', 'SendMessage', now + 60_000, 0)).toContain('deadline passed');
    expect(scopeViolation(s, 'writer', 'SendMessage', now, 1)).toContain('cost cap 1 is reached');
    expect(scopeViolation(s, 'writer', 'SendMessage', now, 0.5)).toBeUndefined();
  });
});

describe('chain rules and scope through the delegation stage', () => {
  const config = makeConfig();

  it('a chain rule is checked against the verified chain of the inbound context', () => {
    const { stage } = makeStage(config, fakeClock());
    const onlyOrchestrators = [rule(3, { via: ID.orchestrator })];
    const root = call(stage, 'alice', 'orchestrator');
    expect(root.refusal).toBeUndefined();
    const toResearcher = call(stage, 'orchestrator', 'researcher', root.token);
    expect(toResearcher.refusal).toBeUndefined();
    // researcher -> writer inside the orchestrator's task: allowed
    expect(call(stage, 'researcher', 'writer', toResearcher.token, { chainRules: onlyOrchestrators }).refusal).toBeUndefined();
    // researcher -> writer on its own (a new root task): refused, naming the rule
    const alone = call(stage, 'researcher', 'writer', undefined, { chainRules: onlyOrchestrators });
    expect(alone.refusal?.reason).toBe('chain_not_allowed');
    expect(alone.refusal?.message).toContain('policy[3]');
    expect(alone.token).toBeUndefined();
  });

  it('the scope is signed into the callee context; onward calls outside it are refused; a delegate cannot widen it', () => {
    const clock = fakeClock();
    const { stage, keyring } = makeStage(config, clock);
    const root = call(stage, 'alice', 'orchestrator');
    // the orchestrator narrows the researcher: only the writer, only SendMessage
    const r = call(stage, 'orchestrator', 'researcher', root.token, { scope: 'agents=writer; methods=SendMessage' });
    expect(r.refusal).toBeUndefined();
    const opened = openContext(r.token!, keyring);
    expect(opened.ok && opened.context.scope?.text).toBe('a=writer;m=SendMessage');
    // inside the scope
    const S = { method: 'SendMessage' };
    const w = call(stage, 'researcher', 'writer', r.token, S);
    expect(w.refusal).toBeUndefined();
    answer(stage, w);
    // outside: another agent, another method
    const other = call(stage, 'researcher', 'c', r.token, S);
    expect(other.refusal?.reason).toBe('scope_exceeded');
    expect(other.refusal?.status).toBe(403);
    expect(other.refusal?.message).toContain('only to writer, not to "c"');
    expect(call(stage, 'researcher', 'writer', r.token, { method: 'CancelTask' }).refusal?.reason).toBe('scope_exceeded');
    // the researcher tries to widen what the writer may do: the writer still only gets the intersection
    const widened = call(stage, 'researcher', 'writer', r.token, { ...S, scope: 'agents=writer,c,orchestrator' });
    expect(widened.refusal).toBeUndefined();
    const wctx = openContext(widened.token!, keyring);
    expect(wctx.ok && wctx.context.scope?.text).toBe('a=writer;m=SendMessage');
    expect(call(stage, 'writer', 'c', widened.token, S).refusal?.reason).toBe('scope_exceeded');
    // a malformed scope header is a 400 naming the problem
    const bad = call(stage, 'orchestrator', 'researcher', root.token, { scope: 'agents=*' });
    expect(bad.refusal?.reason).toBe('scope_malformed');
    expect(bad.refusal?.status).toBe(400);
    expect(bad.refusal?.message).toContain('"*" is not an agent name');
  });

  it('a scope deadline ends onward calls before the task deadline', () => {
    const clock = fakeClock();
    const { stage } = makeStage(config, clock);
    const root = call(stage, 'alice', 'orchestrator');
    const r = call(stage, 'orchestrator', 'researcher', root.token, { scope: 'deadline=5s' });
    expect(call(stage, 'researcher', 'writer', r.token).refusal).toBeUndefined();
    clock.advance(5_000);
    expect(call(stage, 'researcher', 'writer', r.token).refusal?.message).toContain("the delegated scope's deadline passed");
  });
});
