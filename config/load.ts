import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { CodedError } from '../protocol/errors.js';
import { configSchemas, type Config } from './schema.js';
import { nearestKey } from './suggest.js';

/** The config file or a config section is unreadable or invalid; the message names the field. */
export class ConfigError extends CodedError<'config_invalid'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config_invalid', message, options);
    this.name = 'ConfigError';
  }
}

interface Issue {
  readonly code?: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly keys?: readonly string[];
  readonly errors?: readonly (readonly Issue[])[];
  readonly issues?: readonly Issue[];
}
const showPath = (p: readonly PropertyKey[]) => (p.length ? p.map(String).join('.') : '(root)');

/** For a union (e.g. `from: ID | ID[]`), the branch that matched the input's type holds the real reason. */
function likelyBranch(branches: readonly (readonly Issue[])[]) {
  return branches.find((b) => !b.some((i) => i.code === 'invalid_type' && i.path.length === 0));
}

function issueLines(i: Issue, base: readonly PropertyKey[], schema?: z.ZodType): string[] {
  const path = [...base, ...i.path];
  if (i.code === 'unrecognized_keys' && i.keys?.length)
    return i.keys.map((k) => {
      const near = schema ? nearestKey(schema, path, k) : undefined;
      return `${showPath([...path, k])}: unknown key${near !== undefined ? ` (did you mean ${near}?)` : ''}`;
    });
  if (i.code === 'invalid_union' && i.errors) {
    const branch = likelyBranch(i.errors);
    if (branch) return branch.flatMap((j) => issueLines(j, path, schema));
  }
  if (i.code === 'invalid_key' && i.issues?.length) return i.issues.map((j) => `${showPath(path)}: invalid key: ${j.message}`);
  return [`${showPath(path)}: ${i.message}`];
}

/** Format zod issues as "path: reason" lines, one per problem; with `schema`, unknown keys get a suggestion. */
export function formatIssues(issues: readonly Issue[], schema?: z.ZodType): string {
  return issues.flatMap((i) => issueLines(i, [], schema)).join('; ');
}

export function parseConfig(raw: unknown, source = 'config'): Config {
  const { configSchema } = configSchemas();
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(`${source} is invalid: ${formatIssues(r.error.issues, configSchema)}`);
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
    // the path as given and, when relative, where that is: "tollgate.yaml" alone does not say which directory
    const tried = resolve(path) === path ? path : `${path} (${resolve(path)})`;
    throw new ConfigError(`cannot read config file ${tried}: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}`, { cause: e });
  }
  return parseConfigText(text, path);
}
