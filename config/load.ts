import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** Format zod issues as "path: reason" lines. */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('; ');
}

export function parseConfig(raw: unknown, source = 'config'): Config {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(`${source} is invalid: ${formatIssues(r.error.issues)}`);
  return r.data;
}

export function parseConfigText(text: string, source = 'config'): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${source} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  return parseConfig(raw, source);
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read config file ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`, { cause: e });
  }
  return parseConfigText(text, path);
}
