/**
 * The application log of `tollgate serve` (what happened to the gateway, not one line per call: that is the
 * audit log): pino, so every line is JSON with `level`, `time` and `msg` that pino-pretty and log shippers
 * read as they are.
 *
 *   --log-format json    one JSON object per line (the default when stderr is not a terminal)
 *   --log-format pretty  one readable line per entry, rendered here from the same JSON (the default on a
 *                        terminal); pino-pretty is not a dependency: for its colours, keep json and pipe
 *                        through `npx pino-pretty`
 *   --log-level L        trace | debug | info (default) | warn | error | fatal | silent
 *
 * Lines go to stderr through the command's Io (stdout carries the banner, and the audit log when audit.path
 * is "-"), synchronously: nothing is lost when the process exits.
 */
import pino, { type Logger } from 'pino';
import { UsageError } from './errors.js';
import type { Io } from './io.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  level?: string;
  format?: string;
  /** stderr is a terminal: the default format is pretty */
  tty?: boolean;
}

/** Checks the flags (a usage error names the choices) and fills the defaults. */
export function logSettings(command: string, o: LogOptions): { level: LogLevel; format: LogFormat } {
  const level = o.level ?? 'info';
  const format = o.format ?? (o.tty ? 'pretty' : 'json');
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--log-level ${JSON.stringify(level)}: expected one of ${LOG_LEVELS.join(', ')}`, command);
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--log-format ${JSON.stringify(format)}: expected json or pretty`, command);
  return { level: level as LogLevel, format: format as LogFormat };
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields, shown in the line's head (or not at all) rather than as key=value */
const HEAD = new Set(['level', 'time', 'msg', 'hostname', 'err']);

/** One pino JSON line as a readable line: `<ISO time> <LEVEL> <msg> (<error>) key=value ...`. Exported for tests. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString() : '';
  const level = LEVEL_NAMES[o.level as number] ?? String(o.level);
  const err = o.err as { message?: string } | undefined;
  const why = err?.message ? ` (${err.message})` : '';
  const fields = Object.entries(o)
    .filter(([k]) => !HEAD.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${time} ${level.padEnd(5)} ${typeof o.msg === 'string' ? o.msg : ''}${why}${fields.length ? ` ${fields.join(' ')}` : ''}`;
}

export function createLog(io: Io, settings: { level: LogLevel; format: LogFormat }): Logger {
  const pretty = settings.format === 'pretty';
  const destination = {
    write(line: string): void {
      io.err(pretty ? prettyLine(line) : line.endsWith('\n') ? line.slice(0, -1) : line);
    },
  };
  // JSON lines carry the pid (workers share stderr); a pretty line is for a person at one terminal
  return pino({ level: settings.level, base: pretty ? {} : { pid: process.pid } }, destination);
}
