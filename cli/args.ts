/** node:util parseArgs with usage errors that name the command and never throw a stack trace. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDuration } from '../config/duration.js';
import { UsageError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed flags: string options as strings, boolean ones as booleans, absent ones undefined. */
export type Values<O extends Options> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean };

export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O): { values: Values<O> } {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    return { values: values };
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
