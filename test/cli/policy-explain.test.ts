import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, tollgate } from './run.js';

/**
 * `tollgate policy explain --config FILE …` (the real binary), offline on a config file read by the loader
 * `tollgate serve` uses. Exit status: 0 allowed, 3 denied, 1 error, 2 usage.
 */
const TD = 'explain.test';
const id = (p: string) => `spiffe://${TD}/${p}`;
let dir: string;
let file: string;

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-explain-'));
  file = path.join(dir, 'tollgate.yaml');
  fs.writeFileSync(
    file,
    `trustDomain: ${TD}
agents:
  orchestrator: { url: https://127.0.0.1:9001, id: ${id('agent/orchestrator')} }
  researcher: { url: https://127.0.0.1:9002, id: ${id('agent/researcher')} }
  writer: { url: https://127.0.0.1:9003, id: ${id('agent/writer')} }
policy:
  - { from: ${id('user/*')}, to: [orchestrator] }
  - { from: ${id('agent/orchestrator')}, to: [researcher], methods: [message/send, GetTask] }
  - { from: ${id('agent/researcher')}, to: [writer], chain: { via: ${id('agent/orchestrator')} } }
  - { from: ${id('agent/researcher')}, to: [orchestrator], methods: [PushNotification] }
shadowPolicy:
  - { from: ${id('user/alice')}, to: [orchestrator] }
`,
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const explain = (...args: string[]) => tollgate(['policy', 'explain', '--config', file, ...args]);

describe('tollgate policy explain (offline)', () => {
  it('allowed: exit 0, naming the rule and the limits that also apply', () => {
    const r = explain('--from', id('user/bob'), '--to', 'orchestrator');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ALLOW  ${id('user/bob')} -> orchestrator SendMessage: allowed by policy[0]`);
    expect(r.stdout).toContain('decided by: policy[0] (allowed)');
    expect(r.stdout).toContain('delegation.task maxCalls 1000');
  });

  it('denied: exit 3, with the reason (method, chain condition, no rule)', () => {
    const m = explain('--from', id('agent/orchestrator'), '--to', 'researcher', '--method', 'tasks/cancel');
    expect(m.code).toBe(3);
    expect(m.stdout).toContain('DENY');
    expect(m.stdout).toContain('(method_not_allowed)');
    expect(m.stdout).toContain('policy[1]: allows only message/send, GetTask');

    const alone = explain('--from', id('agent/researcher'), '--to', 'writer');
    expect(alone.code).toBe(3);
    expect(alone.stdout).toContain('decided by: policy[2] (chain_not_allowed)');
    expect(alone.stdout).toContain(`needs ${id('agent/orchestrator')} on the chain before the caller`);

    const within = explain('--from', id('agent/researcher'), '--to', 'writer', '--chain', `${id('user/alice')},${id('agent/orchestrator')}`);
    expect(within.code).toBe(0);
    expect(within.stdout).toContain(`chain: ${id('user/alice')} -> ${id('agent/orchestrator')} -> ${id('agent/researcher')}`);

    expect(explain('--from', id('service/cron'), '--to', 'writer').code).toBe(3);
  });

  it('explains a push (PushNotification) and, with --shadow, the shadow rules; --json for scripts', () => {
    const push = explain('--from', id('agent/researcher'), '--to', 'orchestrator', '--method', 'PushNotification', '--json');
    expect(push.code).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ allowed: true, reason: 'allowed', decidedBy: 'policy[3]', method: 'PushNotification' });

    const shadow = explain('--from', id('user/bob'), '--to', 'orchestrator', '--shadow', '--json');
    expect(shadow.code).toBe(3);
    expect(JSON.parse(shadow.stdout)).toMatchObject({ allowed: false, reason: 'no_rule' });
  });

  it('exit 2 for usage errors, 1 for a config file that does not load', () => {
    const usage = explain('--to', 'writer');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--from is required');
    expect(explain('--from', 'not-an-id', '--to', 'writer').code).toBe(2);
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'policy: [{ from: x }]\n');
    const r = tollgate(['policy', 'explain', '--config', bad, '--from', id('user/bob'), '--to', 'writer']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('policy');
    const help = tollgate(['policy', 'explain', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit status 0: allowed; 3: denied');
  });
});
