/**
 * `tollgate ctl <verb>`: the admin API from the command line. `runCtl(argv)` takes the arguments after
 * `ctl` and returns the exit code: 0 ok, 1 the operation failed, 2 the command line is wrong.
 */
import { parseArgs } from 'node:util';
import { COMMANDS, type CommandContext, type CommandSpec, type OptionSpec } from './commands.js';
import { connectAdmin, type AdminConnection } from './client.js';
import { explainGrpcError, isServiceError } from './hints.js';
import { CtlError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, processIo, type CtlIo } from './io.js';
import { parseDuration } from '../../config/duration.js';
import { acceptDashValues } from '../args.js';
import { DEFAULT_ADMIN_DIR, DEFAULT_CONTROL_SERVER } from '../defaults.js';
import { wrongPortLine } from '../probe.js';
import { status } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import path from 'node:path';

export { type CtlIo } from './io.js';

const DEFAULT_SERVER = DEFAULT_CONTROL_SERVER;
const DEFAULT_CERT_DIR = DEFAULT_ADMIN_DIR;

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  server: { type: 'string', value: 'HOST:PORT', desc: `the gateway's control listener (default $TOLLGATE_SERVER or ${DEFAULT_SERVER})` },
  'cert-dir': {
    type: 'string',
    value: 'DIR',
    desc: `the admin's key.pem, cert.pem, bundle.pem from \`tollgate admin init\` or \`tollgate bootstrap\` (default $TOLLGATE_CERT_DIR, else ${DEFAULT_CERT_DIR} when it exists)`,
  },
  'server-name': { type: 'string', value: 'NAME', desc: "name to verify the gateway's certificate against (default: the host of --server)" },
  timeout: { type: 'string', value: 'DURATION', desc: 'how long to wait for an answer (default 10s)' },
  json: { type: 'boolean', desc: 'machine-readable JSON output' },
  help: { type: 'boolean', desc: 'show help' },
};

function optionLines(opts: Record<string, OptionSpec>): string {
  const rows = Object.entries(opts).map(([name, o]) => [`--${name}${o.value ? ` ${o.value}` : ''}`, o.desc]);
  const width = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`).join('\n');
}

export function ctlHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length));
  return [
    'usage: tollgate ctl <command> [options]',
    '',
    'Administer a running Tollgate gateway over its gRPC admin API (mTLS with an identity listed under admins:).',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'options for every command:',
    optionLines(GLOBAL_OPTIONS),
    '',
    'Run `tollgate ctl <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

export function commandHelp(c: CommandSpec): string {
  return [
    `usage: tollgate ctl ${c.path.join(' ')}${c.args ? ` ${c.args}` : ''}`,
    '',
    c.summary.charAt(0).toUpperCase() + c.summary.slice(1) + '.',
    ...(c.details ? ['', c.details] : []),
    '',
    ...(Object.keys(c.options).length > 0 ? ['options:', optionLines(c.options), ''] : []),
    'common options:',
    optionLines(GLOBAL_OPTIONS),
    '',
  ].join('\n');
}

/** The longest command path that matches the start of argv. */
function findCommand(argv: readonly string[]): { command?: CommandSpec; rest: string[]; groupWords: string[] } {
  for (const c of COMMANDS) {
    if (c.path.every((w, i) => argv[i] === w)) return { command: c, rest: argv.slice(c.path.length), groupWords: [] };
  }
  // A known group without (or with an unknown) verb: "ctl policy" -> suggest policy get/set.
  const group = COMMANDS.filter((c) => c.path.length > 1 && c.path[0] === argv[0]);
  return { rest: [], groupWords: group.map((c) => c.path.join(' ')) };
}

function parse(c: CommandSpec, args: string[]) {
  const all = { ...GLOBAL_OPTIONS, ...c.options };
  const options = Object.fromEntries(
    Object.entries(all).map(([name, o]) => [name, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(name === 'help' ? { short: 'h' } : {}) }]),
  ) as Parameters<typeof parseArgs>[0] extends infer P ? (P extends { options?: infer O } ? O : never) : never;
  try {
    return parseArgs({ args: acceptDashValues(args, options, true), options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new CtlError('usage', `${msg} (see tollgate ctl ${c.path.join(' ')} --help)`);
  }
}

function timeoutOf(v: unknown): number {
  if (v === undefined) return 10_000;
  const ms = typeof v === 'string' ? parseDuration(v) : null;
  if (ms === null || ms <= 0) throw new CtlError('usage', `--timeout must be a duration like 5s or 1m, got ${JSON.stringify(v)}`);
  return ms;
}

/** Stop long-running commands on Ctrl-C unless the caller brought its own signal. */
function defaultSignal(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    },
  };
}

/** `ctl --server X agents list` == `ctl agents list --server X`: the options for every command may come first. */
function globalsAfterVerb(argv: readonly string[]): string[] {
  const flags: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i].startsWith('--') && argv[i] !== '--') {
    const word = argv[i++];
    flags.push(word);
    const spec = GLOBAL_OPTIONS[word.slice(2)];
    if (!word.includes('=') && spec?.type === 'string' && i < argv.length) flags.push(argv[i++]);
  }
  if (flags.length === 0 || i >= argv.length) return [...argv];
  const rest = argv.slice(i);
  const command = COMMANDS.find((c) => c.path.every((w, j) => rest[j] === w));
  const words = command ? command.path.length : 1;
  return [...rest.slice(0, words), ...flags, ...rest.slice(words)];
}

export async function runCtl(argv: string[], io: CtlIo = processIo): Promise<number> {
  argv = globalsAfterVerb(argv);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io[argv.length === 0 ? 'stderr' : 'stdout'](ctlHelp());
    return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  const { command, rest, groupWords } = findCommand(argv);
  if (!command) {
    if (groupWords.length > 0) {
      const wantsHelp = argv.includes('--help') || argv.includes('-h');
      const text = `tollgate ctl ${argv[0]}: use one of: ${groupWords.join(', ')} (add --help to any of them)\n`;
      io[wantsHelp ? 'stdout' : 'stderr'](text);
      return wantsHelp ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr(`tollgate ctl: unknown command ${JSON.stringify(argv[0])}\n\n${ctlHelp()}`);
    return EXIT_USAGE;
  }

  const name = command.path.join(' ');
  let conn: AdminConnection | undefined;
  let hint = { server: '', certDir: '', identity: '', command: name, timeoutMs: 10_000 };
  const sig = io.signal ? { signal: io.signal, dispose() {} } : defaultSignal();
  try {
    const { values, positionals } = parse(command, rest);
    if (values.help) {
      io.stdout(commandHelp(command));
      return EXIT_OK;
    }
    const pos = command.positionals ?? { min: 0, max: 0, names: '' };
    if (positionals.length < pos.min) throw new CtlError('usage', `tollgate ctl ${name} needs ${pos.names} (see tollgate ctl ${name} --help)`);
    if (positionals.length > pos.max)
      throw new CtlError('usage', `unexpected argument ${JSON.stringify(positionals[pos.max])} (see tollgate ctl ${name} --help)`);

    const certDir =
      (values['cert-dir'] as string | undefined) ??
      (process.env.TOLLGATE_CERT_DIR || undefined) ??
      (existsSync(path.join(DEFAULT_CERT_DIR, 'cert.pem')) ? DEFAULT_CERT_DIR : undefined);
    if (!certDir)
      throw new CtlError(
        'usage',
        `--cert-dir is required: the directory with the admin identity (key.pem, cert.pem, bundle.pem); \`tollgate admin init\` writes one to ${DEFAULT_CERT_DIR} for a gateway on this machine (or set TOLLGATE_CERT_DIR)`,
      );
    const target = (values.server as string | undefined) ?? (process.env.TOLLGATE_SERVER || DEFAULT_SERVER);
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(target))
      throw new CtlError('usage', `--server must be HOST:PORT, e.g. ${DEFAULT_SERVER}; got ${JSON.stringify(target)}`);
    const timeoutMs = timeoutOf(values.timeout);
    hint = { ...hint, server: target, certDir, timeoutMs };

    conn = await connectAdmin({ server: target, certDir, serverName: values['server-name'] as string | undefined, timeoutMs });
    hint.identity = conn.identity;
    const ctx: CommandContext = {
      conn,
      values: values as Record<string, string | boolean | string[] | undefined>,
      positionals,
      io,
      json: values.json === true,
      signal: sig.signal,
    };
    await command.run(ctx);
    return ctx.exitCode ?? EXIT_OK;
  } catch (e) {
    if (e instanceof CtlError) {
      io.stderr(`tollgate ctl ${name}: ${e.message}\n`);
      return e.kind === 'usage' ? EXIT_USAGE : EXIT_FAILED;
    }
    if (isServiceError(e)) {
      const wrongPort = e.code === status.UNAVAILABLE && hint.server ? await wrongPortLine(hint.server) : undefined;
      if (wrongPort !== undefined) {
        io.stderr(`tollgate ctl ${name}: ${wrongPort}\n`);
        return EXIT_FAILED;
      }
      io.stderr(`tollgate ctl ${name}: ${explainGrpcError(e, hint)}\n`);
      return EXIT_FAILED;
    }
    io.stderr(`tollgate ctl ${name}: ${(e as Error).message ?? String(e)}\n`);
    return EXIT_FAILED;
  } finally {
    conn?.close();
    sig.dispose();
  }
}
