/** node:util parseArgs with usage errors that name the command and never throw a stack trace. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDuration } from '../config/duration.js';
import { UsageError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed flags: string options as strings, boolean ones as booleans, absent ones undefined. */
export type Values<O extends Options> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean };

/**
 * `--task -Xy…`: node's parseArgs refuses a string option's value that starts with '-' as ambiguous. Root task
 * ids never start with '-' now, but older ones (and copied ones) may: when the next word is not one of the
 * command's own options, it is the value (rewritten as `--task=-Xy…`). With `positionals`, a word starting
 * with a single '-' that names no option (a task id given as an argument) is passed as a positional.
 */
export function acceptDashValues(argv: readonly string[], options: Options, positionals = false): string[] {
  const known = (word: string) => {
    if (word === '--') return true;
    if (word.startsWith('--')) return Object.hasOwn(options, word.slice(2).split('=')[0]) || word === '--help';
    return word === '-h' || Object.values(options).some((o) => o.short !== undefined && word === `-${o.short}`);
  };
  const out: string[] = [];
  const moved: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = word.startsWith('--') && !word.includes('=') ? word.slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next?.startsWith('-') && next.length > 1 && !known(next)) {
      out.push(`${word}=${next}`);
      i++;
    } else if (positionals && /^-[^-]/.test(word) && word.length > 2 && !known(word)) moved.push(word);
    else out.push(word);
  }
  if (moved.length === 0) return out;
  return out.includes('--') ? [...out, ...moved] : [...out, '--', ...moved];
}

export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O): { values: Values<O> } {
  try {
    const all = { ...options, help: { type: 'boolean', short: 'h' } } as const;
    const { values } = parseArgs({ args: acceptDashValues(argv, all), options: all, strict: true, allowPositionals: false });
    return { values };
  } catch (e) {
    // node's messages look like: Unknown option '--x'. To specify a positional argument starting with a '-' ...
    const msg = (e as Error).message.split('. ')[0].replace(/\.$/, '');
    throw new UsageError(msg.charAt(0).toLowerCase() + msg.slice(1), command);
  }
}

export function requireString(command: string, values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} is required`, command);
  return v;
}

export function durationOption(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) throw new UsageError(`--${name} ${JSON.stringify(value)} is not a duration like 30s, 10m or 1h`, command);
  return ms;
}
