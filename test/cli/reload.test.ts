import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, start, type Running } from './run.js';

/** `tollgate serve` reloads its config on SIGHUP and, with --watch-config, when the file changes. */
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-reload-'));
const config = path.join(work, 'tollgate.yaml');
const good = `trustDomain: reload.test\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n`;
let serve: Running | undefined;

afterAll(async () => {
  await serve?.stop('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
});

async function waitForStderr(s: Running, re: RegExp, from: number): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const tail = s.stderr().slice(from);
    const m = tail.match(re);
    if (m) return m[0];
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${re} in:\n${tail}\nfull stderr:\n${s.stderr()}\nexit ${s.child.exitCode} ${s.child.signalCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('serve config reload', () => {
  it('SIGHUP and file changes reload a good config; a bad one is refused with the reason and the gateway keeps running', async () => {
    ensureBuilt();
    fs.writeFileSync(config, good);
    serve = start(['serve', '--config', config, '--data-dir', path.join(work, 'data'), '--watch-config']);
    await serve.waitFor(/npm run demo.*\n/);

    let mark = serve.stderr().length;
    serve.child.kill('SIGHUP');
    await waitForStderr(serve, /SIGHUP: config reloaded/, mark);

    mark = serve.stderr().length;
    fs.writeFileSync(config, `${good}rateLimits: { perCaller: { rps: 0, burst: 1 } }\n`);
    const refused = await waitForStderr(serve, /config file changed: config NOT reloaded[^\n]*/, mark);
    expect(refused).toContain('rateLimits.perCaller.rps');

    mark = serve.stderr().length;
    fs.writeFileSync(config, `${good}rateLimits: { perCaller: { rps: 10, burst: 20 } }\n`);
    await waitForStderr(serve, /config file changed: config reloaded/, mark);
    expect(serve.child.exitCode).toBeNull();
  });
});
