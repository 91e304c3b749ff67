/**
 * The config reference (Markdown), generated from the zod schema so it cannot drift from what the loader
 * accepts. Run `node dist/config/docs.js` to print it (e.g. into README.md "Config reference").
 *
 * We render zod's own JSON Schema export in input mode: that is the shape a user writes in YAML (durations
 * as "30s", defaults not yet applied), and it carries `.describe()` texts, defaults and bounds for free.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchemas } from './schema.js';

/** A JSON Schema node as zod emits it (only the keywords we render). */
interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Node[];
  properties?: Record<string, Node>;
  required?: string[];
  additionalProperties?: Node | boolean;
  propertyNames?: Node;
  items?: Node;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

interface Row {
  key: string;
  type: string;
  def: string;
  description: string;
}

/** The config's JSON Schema as a user writes it (input side of every transform). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchemas().configSchema, { io: 'input', unrepresentable: 'any' });
}

// zod emits Number.MAX_SAFE_INTEGER as the maximum of every .int(); it says nothing to a reader.
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

function bounds(n: Node): string {
  const parts: string[] = [];
  if (n.exclusiveMinimum !== undefined) parts.push(`> ${n.exclusiveMinimum}`);
  if (n.minimum !== undefined) parts.push(`≥ ${n.minimum}`);
  if (n.maximum !== undefined && n.maximum !== NO_LIMIT) parts.push(`≤ ${n.maximum}`);
  if (n.exclusiveMaximum !== undefined) parts.push(`< ${n.exclusiveMaximum}`);
  return parts.join(', ');
}

function typeOf(n: Node): string {
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``;
  if (n.enum) return n.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' or ');
  if (n.anyOf) return n.anyOf.map(typeOf).join(' or ');
  if (Array.isArray(n.type)) {
    // Durations are string-or-number unions; their description says so, and "duration" reads better.
    if (n.description?.includes('(duration')) return 'duration (`500ms`, `30s`, `10m`, `1h`, `7d`, or ms)';
    return n.type.join(' or ');
  }
  switch (n.type) {
    case 'array': {
      const of = n.items ? typeOf(n.items) : 'any';
      return `list of ${of.includes(' or ') ? `(${of})` : of}${n.minItems ? `, at least ${n.minItems}` : ''}`;
    }
    case 'object': {
      if (n.additionalProperties && typeof n.additionalProperties === 'object') {
        const keyPattern = n.propertyNames?.pattern ? ` (names match \`${n.propertyNames.pattern}\`)` : '';
        return `map of name → ${typeOf(n.additionalProperties)}${keyPattern}`;
      }
      return 'object';
    }
    case 'integer':
    case 'number': {
      const b = bounds(n);
      return b ? `${n.type} ${b}` : n.type;
    }
    case 'string': {
      const extra: string[] = [];
      if (n.format) extra.push(n.format);
      if (n.pattern) extra.push(`matching \`${n.pattern}\``);
      const base = n.minLength ? 'non-empty string' : 'string';
      return extra.length ? `${base} (${extra.join(', ')})` : base;
    }
    default:
      return n.type ?? 'any';
  }
}

function defaultOf(n: Node, required: boolean): string {
  if (required) return '**required**';
  if (n.default === undefined) return '';
  // Object defaults are spelled out by their children's rows.
  if (n.default !== null && typeof n.default === 'object' && !Array.isArray(n.default)) return '';
  return `\`${JSON.stringify(n.default)}\``;
}

function walk(n: Node, key: string, required: boolean, rows: Row[]): void {
  // A map value or list item without its own description adds nothing beyond its parent's row.
  const structural = (key.endsWith('.<name>') || key.endsWith('[]')) && !n.description;
  if (key && !structural) rows.push({ key, type: typeOf(n), def: defaultOf(n, required), description: n.description ?? '' });
  if (n.properties) {
    for (const [name, child] of Object.entries(n.properties)) {
      walk(child, key ? `${key}.${name}` : name, n.required?.includes(name) ?? false, rows);
    }
  }
  if (n.additionalProperties && typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${key}.<name>`, false, rows);
  if (n.items?.properties) walk(n.items, `${key}[]`, false, rows);
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The whole reference as Markdown: one row per key path, depth first, in schema order. */
export function renderConfigReference(): string {
  const rows: Row[] = [];
  walk(configJsonSchema(), '', false, rows);
  const lines = [
    '## Config reference',
    '',
    '<!-- Generated from config/schema.ts by `node dist/config/docs.js`; do not edit by hand. -->',
    '',
    'The config file is YAML. Every key is optional unless marked required; unknown keys are refused with their path.',
    '`<name>` stands for a map key you choose (an agent name); `[]` marks the fields of each list item.',
    '',
    '| Key | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${cell(r.key)}\` | ${cell(r.type)} | ${cell(r.def)} | ${cell(r.description)} |`),
    '',
  ];
  return lines.join('\n');
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) process.stdout.write(renderConfigReference());
