/**
 * Steps 6 and 7, after the summary: governance that follows the chain, and a record that cannot be quietly
 * rewritten.
 *
 *   6. attenuation: the orchestrator narrows what the flaky agent may pass on (tollgate-scope agents=researcher);
 *      the flaky agent's hand-off to the writer, which its own policy allows, is refused (403 scope_exceeded)
 *   7. the audit log: `tollgate audit verify` on a copy of the gateway's audit file says OK; on a copy with the
 *      rogue's refused call edited to look answered, it names the altered line
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { USER_NAME, agentId } from './config.js';
import { DemoError } from './errors.js';
import type { Narrator } from './narrator.js';
import { callAgent, type CallLog } from './agents/agent.js';
import type { GatewayClients } from './agents/a2a.js';
import { runCliStatus, shellCommand } from './cli.js';
import { TOPIC } from './story.js';

export interface EpilogueCast {
  narrator: Narrator;
  log: CallLog;
  user: GatewayClients;
  /** the gateway's audit file and data dir (bundle.pem), and where to write the copies */
  auditPath: string;
  dataDir: string;
  dir: string;
}

export interface EpilogueResult {
  /** the refusal the scoped hand-off got */
  scope: { status: number | undefined; reason: string; message: string };
  /** the line `audit verify` named in the edited copy */
  tamperedLine: number;
}

function expectStep(ok: boolean, step: string, what: string): void {
  if (!ok) throw new DemoError('story', `step "${step}" did not go as expected: ${what}`);
}

/**
 * The audit file's complete lines, once the line `wanted` matches is there and a signed checkpoint covers it
 * (the gateway hands lines over within 1 s and signs a checkpoint every audit.checkpointInterval).
 */
async function auditLines(file: string, wanted: (line: string) => boolean, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    // only whole lines: a chunk may be half written
    const lines = text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .slice(0, -1);
    const at = lines.findIndex(wanted);
    if (at >= 0 && lines.slice(at + 1).some((l) => l.includes('"kind":"checkpoint"'))) return lines;
    if (Date.now() > deadline) throw new DemoError('story', `the audit log ${file} has no signed line for the rogue's call after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function playEpilogue(cast: EpilogueCast): Promise<EpilogueResult> {
  const { narrator: say, log, user } = cast;

  // 6. attenuation
  say.step(6, 'The orchestrator narrows what its delegate may pass on (attenuation): an onward call outside the scope is refused');
  const mark = log.mark();
  const text = `double-check the figures on ${TOPIC}`;
  await callAgent(cast, user, USER_NAME, 'orchestrator', text);
  const handoff = log.since(mark).find((r) => r.from === 'flaky' && r.to === 'writer');
  const f = handoff?.failure;
  expectStep(
    f?.status === 403 && f.reason === 'scope_exceeded',
    'attenuation',
    f
      ? `expected 403 scope_exceeded, got ${f.status ?? '—'} ${f.reason}`
      : handoff
        ? 'the writer answered the flaky agent'
        : 'the flaky agent never called the writer',
  );
  say.note('policy allows flaky -> writer; the scope the orchestrator set, signed into the delegation context, does not');

  // 7. the audit log
  say.step(7, 'The audit log is tamper-evident: tollgate audit verify catches an edited line');
  const rogue = agentId('rogue');
  const isRogue = (l: string) => l.includes(`"caller":"${rogue}"`) && l.includes('"status":403');
  const lines = await auditLines(cast.auditPath, isRogue);
  const original = path.join(cast.dir, 'audit-copy.log');
  writeFileSync(original, lines.join('\n') + '\n');
  const bundle = path.join(cast.dataDir, 'bundle.pem');
  const verify = (file: string) => runCliStatus(['audit', 'verify', '--bundle', bundle, file]);
  const show = (file: string) => `$ ${shellCommand(['audit', 'verify', '--bundle', 'data/bundle.pem', path.basename(file)])}`;

  say.line(`  ${show(original)}`);
  const ok = await verify(original);
  for (const l of ok.stdout.trimEnd().split('\n')) say.line(`    ${l}`);
  expectStep(ok.code === 0 && ok.stdout.includes('OK: chain intact'), 'audit verify', `the unedited copy did not verify: ${ok.stdout || ok.stderr}`);

  // an insider hides the rogue's attempt: its refused call now reads as answered
  const at = lines.findIndex(isRogue);
  const edited = [...lines];
  edited[at] = edited[at].replace('"decision":"deny"', '"decision":"allow"').replace('"status":403', '"status":200');
  const tampered = path.join(cast.dir, 'audit-edited.log');
  writeFileSync(tampered, edited.join('\n') + '\n');
  say.note(`edited copy: line ${at + 1} (the rogue's 403) changed to read "decision":"allow","status":200`);
  say.line(`  ${show(tampered)}`);
  const bad = await verify(tampered);
  for (const l of bad.stdout.trimEnd().split('\n')) say.line(`    ${l}`);
  const named = Number(/TAMPERED at line (\d+)/.exec(bad.stdout)?.[1]);
  expectStep(bad.code === 1 && named === at + 1, 'audit verify', `expected exit 1 naming line ${at + 1}, got exit ${bad.code}: ${bad.stdout || bad.stderr}`);
  say.refused(`audit verify exit 1: line ${named} was altered`);

  return { scope: { status: f!.status, reason: f!.reason, message: f!.message }, tamperedLine: named };
}
