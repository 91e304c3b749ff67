import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, startStandIns, baseConfig, id, type E2e, type StandIns } from './harness.js';
import { scopeHeader } from '../../agent-bootstrap/index.js';
import { ruleToMsg, rulesFromMsg } from '../../control/admin/convert.js';

/**
 * Chain-aware policy and attenuation through the composed gateway (what `tollgate serve` runs): the
 * researcher may call the writer only inside the orchestrator's tasks; the orchestrator narrows what the
 * researcher may pass on with a tollgate-scope header, and the gateway binds it into the signed context.
 */
let e: E2e;
let agents: StandIns;
const call = (from: string, to: string, rpcId: number, headers: Record<string, string> = {}) => agents.call(from, to, rpcId, headers);
const lastContext = (agent: string) => agents.lastContext(agent);

beforeAll(async () => {
  e = await startE2e(baseConfig());
  agents = await startStandIns(e, ['orchestrator', 'researcher', 'writer', 'archive']);
  fs.appendFileSync(
    e.configPath,
    `agents:
${agents.agentsYaml()}
policy:
  - { from: ${id('user/*')}, to: [orchestrator] }
  - { from: ${id('agent/orchestrator')}, to: [researcher] }
  - { from: ${id('agent/researcher')}, to: [writer], chain: { via: ${id('agent/orchestrator')}, initiator: ${id('user/*')} } }
  - { from: ${id('agent/researcher')}, to: [archive] }
`,
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  await agents?.close();
  await e?.close();
});

describe('chain-aware policy and attenuation through the gateway', () => {
  it("the researcher reaches the writer only inside a user's task that went through the orchestrator", async () => {
    expect((await call('alice', 'orchestrator', 1)).status).toBe(200);
    expect((await call('orchestrator', 'researcher', 2, { 'tollgate-delegation': lastContext('orchestrator') })).status).toBe(200);
    const ok = await call('researcher', 'writer', 3, { 'tollgate-delegation': lastContext('researcher') });
    expect(ok.status).toBe(200);

    // on its own (a task of its own): refused, naming the rule and what failed
    const alone = await call('researcher', 'writer', 4);
    expect(alone.status).toBe(403);
    expect(alone.json.id).toBe(4);
    expect(alone.json.error!.data!.reason).toBe('chain_not_allowed');
    expect(alone.json.error!.message).toContain('policy[2] needs a task started by');
    expect(agents.upstreams.writer.requests).toHaveLength(1);
  });

  it('a scope set by the orchestrator binds the researcher: onward calls outside it get 403 naming the scope', async () => {
    expect((await call('alice', 'orchestrator', 10)).status).toBe(200);
    const scope = scopeHeader({ agents: ['writer'], methods: ['message/send'] });
    expect((await call('orchestrator', 'researcher', 11, { 'tollgate-delegation': lastContext('orchestrator'), 'tollgate-scope': scope })).status).toBe(200);
    // the scope is the gateway's business: the researcher never sees the header, only the signed context
    expect(agents.upstreams.researcher.requests.at(-1)!.headers['tollgate-scope']).toBeUndefined();
    const ctx = lastContext('researcher');
    expect((await call('researcher', 'writer', 12, { 'tollgate-delegation': ctx })).status).toBe(200);
    const out = await call('researcher', 'archive', 13, { 'tollgate-delegation': ctx });
    expect(out.status).toBe(403);
    expect(out.json.error!.data!.reason).toBe('scope_exceeded');
    expect(out.json.error!.message).toContain('only to writer, not to "archive"');
    // the same researcher without the narrowed context may call the archive (its own policy allows it)
    expect((await call('researcher', 'archive', 14)).status).toBe(200);
    // a malformed scope is refused with 400 before the callee sees anything
    const bad = await call('orchestrator', 'researcher', 15, { 'tollgate-scope': 'agents=writer; colour=blue' });
    expect(bad.status).toBe(400);
    expect(bad.json.error!.message).toContain('unknown key "colour"');
  });

  it('the admin API keeps chain conditions and nonA2A (a ctl policy set round trip loses nothing)', () => {
    const rules = e.tg.config().policy;
    const back = rulesFromMsg(rules.map(ruleToMsg));
    expect(back).toEqual(rules);
    expect(back[2].chain).toEqual({ via: [id('agent/orchestrator')], initiator: [id('user/*')] });
    const withNon = rulesFromMsg([{ ...ruleToMsg(rules[0]), nonA2a: true }]);
    expect(withNon[0].nonA2A).toBe(true);
  });
});
