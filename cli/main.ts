#!/usr/bin/env node
/**
 * `tollgate` command line: dispatch to one file per command (cli/commands/). Every error ends as one line
 * on stderr (cli/errors.ts) and exit code 1, or 2 for usage errors.
 */
import { pathToFileURL } from 'node:url';
import { readFileSync, realpathSync } from 'node:fs';
import { describeError, UsageError } from './errors.js';
import { processIo, type Command, type Io } from './io.js';

/**
 * Command name -> loader. Loaded on demand: `tollgate --help` or `token create` should not pay for
 * grpc-js, undici and the whole gateway at startup.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  'ca init': async () => (await import('./commands/ca-init.js')).caInit,
  'token create': async () => (await import('./commands/token-create.js')).tokenCreate,
  serve: async () => (await import('./commands/serve.js')).serve,
  bootstrap: async () => (await import('./commands/bootstrap.js')).bootstrap,
  ctl: async () => {
    const { runCtl } = await import('./ctl/index.js');
    return (argv) => runCtl(argv);
  },
  graph: async () => (await import('./commands/graph.js')).graph,
  'audit verify': async () => (await import('./commands/audit-verify.js')).auditVerify,
  'policy explain': async () => (await import('./commands/policy-explain.js')).policyExplain,
  'agent run': async () => (await import('./commands/agent-run.js')).agentRun,
  'admin init': async () => (await import('./commands/admin-init.js')).adminInit,
};

/** Command groups: `tollgate ca` alone is an unknown "ca " command, named as such. */
const GROUPS = ['ca', 'token', 'agent', 'admin', 'audit', 'policy'];

/** Flags that take no value, for moving flags given before the command to after it. */
const BOOLEAN_FLAGS = new Set(['--json', '--dot', '--watch', '--watch-config', '--recreate-store', '--shadow', '--help', '-h']);

/**
 * `tollgate --data-dir D token create …` == `tollgate token create --data-dir D …`: flags before the command
 * words are moved after them. Returns argv unchanged when it does not start with a flag.
 */
export function flagsAfterCommand(argv: readonly string[]): string[] {
  const flags: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-') && argv[i] !== '--') {
    const word = argv[i++];
    flags.push(word);
    if (!word.includes('=') && !BOOLEAN_FLAGS.has(word) && i < argv.length) flags.push(argv[i++]);
  }
  if (flags.length === 0) return [...argv];
  const rest = argv.slice(i);
  const found = resolveCommand(rest);
  if (!found) return [...rest, ...flags];
  const words = rest.length - found.rest.length;
  return [...rest.slice(0, words), ...flags, ...found.rest];
}

/** The version in package.json (dist/cli/main.js -> ../../package.json, in a checkout and when installed). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

/** Resolve "ca init" / "token create" / "serve" … from argv; returns the command and its own arguments. */
export function resolveCommand(argv: string[]): { name: string; load: () => Promise<Command>; rest: string[] } | null {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    if (argv.length >= words && COMMANDS[name]) return { name, load: COMMANDS[name], rest: argv.slice(words) };
  }
  return null;
}

export async function run(argv: string[], io: Io = processIo): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.out((await import('./help.js')).MAIN_HELP);
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
      io.out(version());
      return 0;
    }
    argv = flagsAfterCommand(argv);
    const found = resolveCommand(argv);
    if (!found) {
      if (argv.length === 0) throw new UsageError('no command given', '');
      const group = GROUPS.includes(argv[0]) ? `${argv[0]} ${argv[1] ?? ''}`.trim() : argv[0];
      throw new UsageError(`unknown command "${group}"`, '');
    }
    if (found.rest.includes('--help') || found.rest.includes('-h')) {
      // the help texts are loaded when asked for: a running `serve` should not hold them (docs/performance.md Session 7)
      const help = (await import('./help.js')).COMMAND_HELP[found.name];
      if (help) {
        io.out(help);
        return 0;
      }
    }
    const command = await found.load();
    return (await command(found.rest, io)) ?? 0;
  } catch (err) {
    const { line, exitCode } = describeError(err);
    io.err(line);
    return exitCode;
  }
}

/**
 * `tollgate ctl … | head`: once the reader has gone, the next write fails with EPIPE (Node ignores SIGPIPE)
 * and the unhandled stream error crashed the CLI with a stack trace. The reader chose to stop listening, so
 * stop quietly with status 0, as a program killed by SIGPIPE stops without a word. Installed once, here, it
 * covers every command, including long-running ones (`ctl watch`, `serve`) that would otherwise write on.
 */
function exitQuietlyWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      if (stream === process.stdout) process.stderr.write(`tollgate: cannot write to stdout (${err.code ?? err.message})\n`);
      process.exit(1);
    });
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  exitQuietlyWhenOutputCloses();
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Commands that keep servers open (serve, bootstrap --watch) return only when stopped.
      if (code !== 0) process.exit(code);
    },
    () => process.exit(1),
  );
}
