#!/usr/bin/env node
/**
 * `npm run demo`: one command, the whole Tollgate story with real A2A agents.
 *
 * It starts a gateway (`tollgate serve`, its own temp dir and free ports), enrols six identities with join
 * tokens, starts five @a2a-js/sdk agents behind the gateway, then plays the story: delegated work with a
 * streamed answer, a rogue agent refused (403), a burst rate-limited (429), a retry loop cut (508), a
 * summary read back from the gateway, an attenuated delegate refused (403 scope_exceeded) and
 * `tollgate audit verify` catching an edited audit line. Everything is removed at the end, on failure and on Ctrl-C.
 *
 *   --keep   leave everything running to explore (`tollgate ctl`, `tollgate graph`, the /ui page); Ctrl-C ends it
 */
import { Cleanup } from './cleanup.js';
import { cliEntry } from './cli.js';
import { DemoError, errorLine } from './errors.js';
import { Narrator, seconds } from './narrator.js';
import type { DemoWorld } from './setup.js';

const HELP = `usage: npm run demo [-- --keep]

Runs the Tollgate story end to end: a gateway (tollgate serve) with real A2A agents, in a temp dir with
free ports; nothing to install or configure. Everything is cleaned up when it ends.

  --keep   leave the gateway and agents running afterwards, print how to explore them; Ctrl-C stops
  -h, --help`;

const STORY_TIMEOUT_MS = 60_000;

function keepHints(w: DemoWorld, loopTaskId: string): string[] {
  const cli = `node ${cliEntry()}`;
  const ctl = `--server 127.0.0.1:${w.ports.control} --cert-dir ${w.identitiesDir}/admin`;
  const metrics = `127.0.0.1:${w.ports.metrics}`;
  return [
    '',
    'Still running (--keep). Explore it:',
    `  alias tollgate='${cli}'`,
    `  tollgate ctl agents list ${ctl}`,
    `  tollgate ctl policy get ${ctl}`,
    `  tollgate ctl watch ${ctl}`,
    `  tollgate graph --server ${metrics}`,
    `  tollgate graph --server ${metrics} --task=${loopTaskId} --dot`,
    `  curl -s http://${metrics}/metrics | grep '^tollgate_'`,
    `  live call graph: http://${metrics}/ui`,
    `  config ${w.configPath}, gateway log ${w.logPath}, audit log ${w.auditPath}`,
    'Press Ctrl-C to stop everything and clean up.',
  ];
}

/** Rejects when `p` has not settled in `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DemoError('story', `${what} did not finish within ${seconds(ms)}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

// grpc-js sets the TLS ServerName for IP targets, and Node warns (DEP0123) on each bootstrap: noise here.
function silenceIpServernameWarning(): void {
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = (...args: unknown[]) => {
    const code = typeof args[2] === 'string' ? args[2] : (args[1] as { code?: string } | undefined)?.code;
    if (code !== 'DEP0123') original(...args);
  };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--keep');
  if (unknown.length > 0) {
    process.stderr.write(`demo: unknown option ${unknown[0]}\n${HELP}\n`);
    return 2;
  }
  const keep = argv.includes('--keep');
  // loaded after the arguments are checked: --help should not wait for the SDK, grpc-js and undici
  const [{ startWorld }, { playStory }, { printSummary }, { playEpilogue }] = await Promise.all([
    import('./setup.js'),
    import('./story.js'),
    import('./report.js'),
    import('./epilogue.js'),
  ]);
  const say = new Narrator();
  const cleanup = new Cleanup();
  const t0 = Date.now();

  // Ctrl-C / SIGTERM at any point: undo what was started, then leave.
  let interrupted: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    interrupted = () => reject(new DemoError('interrupted', 'interrupted'));
  });
  stopped.catch(() => undefined);
  let signals = 0;
  // the second Ctrl-C does not wait for a graceful cleanup (the exit handler still kills the gateway)
  const onSignal = () => (++signals > 1 ? process.exit(130) : interrupted?.());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // However the process ends: no gateway left running, no workspace left behind.
  const onExit = () => cleanup.runLastResort();
  process.on('exit', onExit);

  let code = 0;
  try {
    say.line('Tollgate demo: identity + governance for agents speaking A2A');
    const w = await Promise.race([startWorld(say, cleanup, { keep }), stopped]);
    const gatewayDied = w.gateway.exited.then((c) => {
      throw new DemoError('gateway', `tollgate serve stopped unexpectedly (exit code ${c}): ${w.gateway.tail(1)[0] ?? 'no output'} (log: ${w.logPath})`);
    });
    gatewayDied.catch(() => undefined);
    const story = await Promise.race([
      within(playStory({ narrator: say, log: w.log, user: w.user, rogue: w.rogue }), STORY_TIMEOUT_MS, 'the story'),
      gatewayDied,
      stopped,
    ]);
    const { loopTaskId } = await Promise.race([printSummary(say, w.ports.metrics, story), gatewayDied, stopped]);
    await Promise.race([
      within(
        playEpilogue({ narrator: say, log: w.log, user: w.user, auditPath: w.auditPath, dataDir: w.dataDir, dir: w.dir }),
        STORY_TIMEOUT_MS,
        'steps 6 and 7',
      ),
      gatewayDied,
      stopped,
    ]);
    say.line();
    say.line(
      `Done in ${seconds(Date.now() - t0)}: every call went through the gateway with mTLS; it refused a rogue (403), a burst (429), a loop (508) and an out-of-scope hand-off (403), and its audit log gave away an edited line.`,
    );
    if (keep) {
      for (const l of keepHints(w, loopTaskId)) say.line(l);
      // Ctrl-C is how a --keep run ends: not an error
      await Promise.race([stopped, gatewayDied]).catch((e: unknown) => {
        if (!(e instanceof DemoError && e.code === 'interrupted')) throw e;
      });
      say.line();
      say.line('stopping the agents and the gateway, removing the workspace…');
    } else {
      say.line('Run `npm run demo -- --keep` to leave it running and explore.');
    }
  } catch (err) {
    if (err instanceof DemoError && err.code === 'interrupted') {
      process.stderr.write('\ndemo: interrupted, cleaning up\n');
      code = 130;
    } else {
      process.stderr.write(`demo failed: ${errorLine(err)}\n`);
      code = 1;
    }
  } finally {
    const problems = await cleanup.run();
    for (const p of problems) process.stderr.write(`demo: cleanup: ${p}\n`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return code;
}

silenceIpServernameWarning();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${errorLine(err)}\n`);
    process.exit(1);
  },
);
