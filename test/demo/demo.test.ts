/**
 * `npm run demo` end to end: the built demo starts a real gateway (`tollgate serve`) and real A2A agents,
 * plays the story, and its output must show every step with the outcome the gateway really produced.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { ensureBuilt, portOpen, printedPlaces, runDemo } from './fixture.js';

let run: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  ensureBuilt();
  run = await runDemo([], 75_000);
}, 200_000);

/** The lines of one story step (from its header to the next one). */
function step(n: number): string {
  const out = run.stdout;
  const start = out.indexOf(`\n${n}. `);
  const end = out.indexOf(`\n${n + 1}. `, start + 1);
  expect(start, `step ${n} missing in:\n${out}\n${run.stderr}`).toBeGreaterThan(0);
  return out.slice(start, end < 0 ? undefined : end);
}

describe('npm run demo', () => {
  it('runs the whole story and exits 0', () => {
    expect(run.stderr, run.stdout).not.toMatch(/demo failed/);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/starting the gateway \(tollgate serve\).*ok \(\d+\.\d s\)/);
    expect(run.stdout).toMatch(/Done in \d+\.\d s/);
  });

  it('1: delegated work succeeds through the gateway, and the streamed answer arrives in chunks', () => {
    const s = step(1);
    expect(s).toContain('▶ alice -> orchestrator: SendStreamingMessage');
    expect(s).toMatch(/▶ orchestrator -> researcher: SendMessage[^\n]*\n\s*✓ researcher answered 200, cost 0\.02 USD/);
    expect(s).toMatch(/▶ orchestrator -> writer: SendMessage[^\n]*\n\s*✓ writer answered 200, cost 0\.05 USD/);
    const chunks = [...s.matchAll(/⇣ chunk (\d+): /g)].map((m) => Number(m[1]));
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks).toEqual(chunks.map((_, i) => i + 1));
    // the chunks are printed before the stream's end
    expect(s.indexOf('⇣ chunk 1')).toBeLessThan(s.indexOf('✓ stream complete'));
    expect(s).toMatch(/✓ stream complete: \d+ chunks, task completed \(HTTP 200/);
  });

  it('2: the rogue agent is refused with 403 and the reason', () => {
    const s = step(2);
    expect(s).toContain('▶ rogue -> writer: SendMessage');
    expect(s).toMatch(/✗ refused by the gateway: 403 no_rule: spiffe:\/\/tollgate\.local\/agent\/rogue is not allowed to call agent "writer"/);
    expect(s).not.toContain('✓ writer answered');
  });

  it('3: a burst is rate-limited with 429 and Retry-After', () => {
    const s = step(3);
    const answered = Number(/✓ (\d+) answered \(200/.exec(s)?.[1]);
    const refused = Number(/✗ (\d+) refused by the gateway: 429 edge, Retry-After \d+ s: rate limited/.exec(s)?.[1]);
    expect(answered).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(answered + refused).toBe(30);
  });

  it('4: the retry loop is cut at the first revisit with 508, naming the cycle', () => {
    const s = step(4);
    expect(s).toMatch(/▶ orchestrator -> flaky: SendMessage/);
    expect(s).toMatch(/↯ flaky: transient error \(simulated\)/);
    expect(s).toMatch(
      /▶ flaky -> orchestrator: SendMessage 'retry: [^\n]*\n\s*✗ refused by the gateway: 508 loop: delegation loop detected: orchestrator -> flaky -> orchestrator/,
    );
    expect(s).toMatch(/cycle orchestrator -> flaky -> orchestrator, closing edge flaky -> orchestrator, task \S+/);
    // cut at the FIRST revisit: the orchestrator was never called a second time
    expect(s.match(/▶ orchestrator -> flaky/g)).toHaveLength(1);
  });

  it('5: the summary counts calls and refusals by reason, cost per task, and prints the looping task tree', () => {
    const s = step(5);
    expect(s).toMatch(/calls through the gateway: \d+ A2A calls, \d+ answered by agents, \d+ refused by the gateway/);
    expect(s).toMatch(/403\s+no_rule\s+× 1/);
    expect(s).toMatch(/429\s+edge\s+× \d+/);
    expect(s).toMatch(/508\s+loop\s+× 1/);
    // cost per task: researcher 0.02 + writer 0.05 + orchestrator 0.01
    expect(s).toMatch(/\S+\s+alice\s+3\s+0\s+0\.08 USD\s+write a brief on tidal energy/);
    expect(s).toMatch(/\S+\s+alice\s+\d+\s+1\s+yes\s+0\.02 USD\s+check the figures on tidal energy/);
    // `tollgate graph --task` output: initiator and closing edge marked
    const loopTask = /task (\S+)\n/.exec(step(4))?.[1];
    expect(s).toContain(`$ tollgate graph --server 127.0.0.1:`);
    expect(s).toContain(`--task=${loopTask}`);
    expect(s).toMatch(/initiator: alice \(spiffe:\/\/tollgate\.local\/user\/alice\)/);
    expect(s).toMatch(/flaky -> orchestrator\s+SendMessage\s+508\s+REFUSED loop \(closing edge, cut\)/);
    expect(s).toMatch(/closing edge spiffe:\/\/tollgate\.local\/agent\/flaky -> spiffe:\/\/tollgate\.local\/agent\/orchestrator/);
  });

  it('6: an attenuated delegate is refused: the hand-off its policy allows is outside the scope its caller set (403 scope_exceeded)', () => {
    const s = step(6);
    expect(s).toContain("▶ alice -> orchestrator: SendMessage 'double-check the figures on tidal energy'");
    expect(s).toContain('orchestrator narrows what the flaky agent may pass on: tollgate-scope: agents=researcher');
    expect(s).toMatch(/▶ flaky -> writer: SendMessage[^\n]*\n\s*✗ refused by the gateway: 403 scope_exceeded: [^\n]*writer/);
    expect(s).not.toContain('✓ writer answered');
  });

  it('7: tollgate audit verify passes the audit log and names the line edited in a copy', () => {
    const s = step(7);
    expect(s).toMatch(/\$ tollgate audit verify --bundle data\/bundle\.pem audit-copy\.log\n\s+\S*audit-copy\.log: \d+ line\(s\)[^\n]*\n\s+OK: chain intact/);
    const line = Number(/edited copy: line (\d+) \(the rogue's 403\)/.exec(s)?.[1]);
    expect(line).toBeGreaterThan(0);
    expect(s).toContain(`TAMPERED at line ${line} (altered)`);
    expect(s).toContain(`✗ audit verify exit 1: line ${line} was altered`);
  });

  it('cleans up: workspace removed, gateway and agents stopped', async () => {
    const p = printedPlaces(run.stdout);
    expect(p.workspace).toMatch(/tollgate-demo-/);
    expect(fs.existsSync(p.workspace)).toBe(false);
    for (const port of [p.proxy, p.control, p.metrics]) expect(await portOpen(port)).toBe(false);
  });
});
