// README "Five minutes to a governed call", run as written: the code blocks are read from README.md, so the
// test breaks when the README drifts. The only rewrites, all here:
//   - the fixed addresses (127.0.0.1:8443/8444/9464/9003) become free ports, in the commands and in the copy
//     of tollgate.example.yaml the gateway runs (other gateways may run on this machine);
//   - `npm start` runs what package.json's start script runs after its build step (checked below);
//   - `alias tollgate=...` lines are replaced by a shell function running dist/cli/main.js (aliases do not
//     expand in a non-interactive shell), and commands that use the built-in defaults for the control and
//     metrics addresses get them from TOLLGATE_SERVER / TOLLGATE_METRICS_SERVER;
//   - the work directory is a fresh one inside the checkout (test-output/, git-ignored), as the README's
//     "in the checkout" says, so `tollgate/agent-bootstrap` resolves by the package's own name.
// Long-running commands (`npm start`, `tollgate agent run`) start in the background and are waited for; the
// rest run in order in one bash -e. Comment lines right after a command are its expected output: every
// fragment between "..." must appear in what the commands printed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../fakes/wait.js';
import { MAIN, ROOT, ensureBuilt, start, type Running } from './run.js';

const SECTION = 'Five minutes to a governed call';

interface Block {
  lang: string;
  text: string;
}

export function readmeSection(title: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const startAt = readme.indexOf(`\n## ${title}\n`);
  if (startAt < 0) throw new Error(`README.md has no section "## ${title}"`);
  const end = readme.indexOf('\n## ', startAt + 1);
  return readme.slice(startAt, end < 0 ? undefined : end);
}

export function codeBlocks(section: string): Block[] {
  return [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], text: m[2] }));
}

/** Expected-output comments: a comment line right after a command line (not the block's header comments). */
function expectedFragments(sh: string): string[] {
  const out: string[] = [];
  let afterCommand = false;
  for (const line of sh.split('\n')) {
    const t = line.trim();
    if (t.startsWith('#')) {
      if (afterCommand)
        out.push(
          ...t
            .slice(1)
            .split('...')
            .map((f) => f.trim())
            .filter((f) => f.length > 0),
        );
    } else afterCommand = t.length > 0 || afterCommand;
    if (t.length === 0) afterCommand = false;
  }
  return out;
}

const section = readmeSection(SECTION);
const blocks = codeBlocks(section);
const work = path.join(ROOT, 'test-output', `readme-${process.pid}-${Date.now()}`);
let ports: Record<string, number>;
let sub: (s: string) => string;
const background: Running[] = [];

beforeAll(async () => {
  ensureBuilt();
  fs.mkdirSync(work, { recursive: true });
  ports = { 8443: await freePort(), 8444: await freePort(), 9464: await freePort(), 9003: await freePort() };
  sub = (s) => s.replace(/127\.0\.0\.1:(8443|8444|9464|9003)\b/g, (_, p: string) => `127.0.0.1:${ports[p]}`);
  const example = fs.readFileSync(path.join(ROOT, 'tollgate.example.yaml'), 'utf8');
  for (const p of Object.keys(ports)) expect(example, `tollgate.example.yaml uses 127.0.0.1:${p}`).toContain(`127.0.0.1:${p}`);
  fs.writeFileSync(path.join(work, 'tollgate.example.yaml'), sub(example));
}, 180_000);

afterAll(async () => {
  for (const r of background.reverse()) await r.stop('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
});

describe(`README "${SECTION}"`, () => {
  it('has the blocks the walk-through needs', () => {
    const sh = blocks.filter((b) => b.lang === 'sh').map((b) => b.text);
    expect(sh.some((t) => /^npm start\b/m.test(t))).toBe(true);
    expect(sh.some((t) => /^tollgate agent run\b/m.test(t))).toBe(true);
    expect(sh.join('\n')).toMatch(/^curl .*--cert/m);
    expect(blocks.some((b) => b.lang === 'js' && /^\/\/ (\S+\.mjs)/.test(b.text))).toBe(true);
    // `npm start` is the build step then this command; the test runs the command
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toMatch(/&& node dist\/cli\/main\.js serve --config tollgate\.example\.yaml$/);
  });

  it('goes from npm start to a successful call (curl and an SDK client), a refused one, and an admin view', async () => {
    const script: string[] = [];
    for (const b of blocks) {
      if (b.lang === 'js') {
        const file = /^\/\/ (\S+\.mjs)/.exec(b.text)![1];
        fs.writeFileSync(path.join(work, file), sub(b.text));
        continue;
      }
      if (b.lang !== 'sh') continue;
      for (const line of b.text.split('\n')) {
        if (/^alias tollgate=/.test(line)) continue;
        if (/^npm start\b/.test(line)) {
          const serve = start(['serve', '--config', 'tollgate.example.yaml'], { cwd: work });
          background.push(serve);
          await serve.waitFor(/npm run demo.*\n/, 60_000); // the banner's last line
          continue;
        }
        if (/^tollgate agent run\b/.test(line)) {
          const args = line
            .replace(/\s+#.*$/, '')
            .split(/\s+/)
            .slice(1);
          const agent = start(args, { cwd: work });
          background.push(agent);
          await agent.waitFor(/call it through the gateway: (\S+)/, 60_000);
          continue;
        }
        script.push(sub(line));
      }
    }
    const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', [`tollgate() { "${process.execPath}" "${MAIN}" "$@"; }`, ...script].join('\n')], {
      cwd: work,
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, TOLLGATE_SERVER: `127.0.0.1:${ports[8444]}`, TOLLGATE_METRICS_SERVER: `127.0.0.1:${ports[9464]}`, TOLLGATE_CERT_DIR: '' },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(0);

    // what the README says the commands print
    const fragments = blocks.filter((b) => b.lang === 'sh').flatMap((b) => expectedFragments(b.text));
    expect(fragments.length).toBeGreaterThanOrEqual(4);
    for (const f of fragments) expect(r.stdout, `README promises "${f}"`).toContain(f);

    // and, spelled out: curl's answer from echo, the SDK client's, the refusal, the admin's view
    expect(r.stdout).toContain('"text":"echo: hello"');
    expect(r.stdout).toContain('echo: hello from the SDK');
    expect(r.stdout).toMatch(/HTTP\/1\.1 403/);
    expect(r.stdout).toMatch(/"reason":"no_rule"/);
    expect(r.stdout).toMatch(/^echo\s+https:\/\/127\.0\.0\.1:\d+\s+spiffe:\/\/tollgate\.local\/agent\/echo/m); // ctl agents list
    expect(r.stdout).toMatch(/^me\s+echo\s+2\s+0\s+0\b/m); // graph: two allowed calls
    expect(r.stdout).toMatch(/^me\s+writer\s+0\s+0\s+1\b/m); // and one refused
    expect(r.stderr).toContain('spiffe://tollgate.local/admin/ops is listed in admins: in tollgate.example.yaml');
    expect(fs.existsSync(path.join(work, '.tollgate/admin/cert.pem'))).toBe(true);
    expect(fs.existsSync(path.join(work, 'identities/echo/key.pem'))).toBe(true);

    // the serve banner's admin commands work as printed (no TOLLGATE_SERVER: the printed --server must do)
    const banner = background[0].stdout();
    const printed = ['tollgate admin init', 'tollgate ctl agents list'].map((cmd) => {
      const line = banner.split('\n').find((l) => l.trim().startsWith(cmd));
      expect(line, `the banner prints "${cmd} ..."`).toBeDefined();
      return line!.replace(/#.*$/, '').trim();
    });
    expect(printed[1]).toContain(`--server 127.0.0.1:${ports[8444]}`);
    const fromBanner = spawnSync('bash', ['-e', '-c', [`tollgate() { "${process.execPath}" "${MAIN}" "$@"; }`, ...printed].join('\n')], {
      cwd: work,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TOLLGATE_SERVER: '', TOLLGATE_CERT_DIR: '' },
    });
    expect(fromBanner.status, fromBanner.stderr).toBe(0);
    expect(fromBanner.stdout).toMatch(/^echo\s+https:/m);
  }, 240_000);
});
