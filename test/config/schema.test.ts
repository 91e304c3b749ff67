/**
 * The config schema through the real loader (YAML text -> zod): what is refused and how it is reported,
 * what defaults fill in, and the generated reference.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseConfigText, loadConfigFile, ConfigError } from '../../config/load.js';
import { configSchemas } from '../../config/schema.js';
import { renderConfigReference, configJsonSchema } from '../../config/docs.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = 'test.yaml';

/** A valid base: one agent, so policies can name it. */
const AGENT = 'agents: { writer: { url: "https://127.0.0.1:9002", id: "spiffe://tollgate.local/agent/writer" } }';

function refusal(yaml: string): string {
  try {
    parseConfigText(yaml, SOURCE);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const msg = (e as Error).message;
    expect(msg).toContain(SOURCE);
    return msg;
  }
  throw new Error(`expected a ConfigError for:\n${yaml}`);
}

describe('config: unknown keys are refused with their path', () => {
  // Accepts both "parent: Unrecognized key: "k"" and "parent.k: unknown key" (see report: formatIssues).
  const unknownKey = (parent: string, key: string) => {
    const p = parent.replace(/[.[\]]/g, '\\$&');
    return new RegExp(`${p}(\\.${key}: unknown key|: Unrecognized keys?: .*"${key}")`);
  };

  it.each([
    ['bogus: 1', '(root)', 'bogus'],
    ['listen: { proxy: "127.0.0.1:1", extra: 2 }', 'listen', 'extra'],
    [`agents: { a: { url: "https://127.0.0.1:1", id: "spiffe://tollgate.local/a", colour: red } }`, 'agents.a', 'colour'],
    ['delegation: { task: { maxcalls: 5 } }', 'delegation.task', 'maxcalls'],
    ['rateLimits: { perCaller: { rps: 1, burst: 1, extra: 1 } }', 'rateLimits.perCaller', 'extra'],
    ['audit: { file: x.log }', 'audit', 'file'],
  ])('%s', (yaml, parent, key) => {
    const msg = refusal(yaml);
    if (parent === '(root)') expect(msg).toMatch(new RegExp(`(\\(root\\): Unrecognized key: "${key}"|${key}: unknown key)`));
    else expect(msg).toMatch(unknownKey(parent, key));
  });
});

describe('config: bad values are refused with path and reason', () => {
  it.each([
    [
      'a duration in words',
      'delegation: { tokenTtl: 5 minutes }',
      /delegation\.tokenTtl: lifetime of a signed delegation context: expected a duration like "500ms", "30s", "10m", "1h" or "7d", got "5 minutes"/,
    ],
    ['a negative duration', 'ca: { svidTtl: -1 }', /ca\.svidTtl: default SVID lifetime: expected a duration .* got -1/],
    ['a unit-less string duration', 'timeouts: { idle: "60" }', /timeouts\.idle: keep-alive idle timeout: expected a duration/],
    ['a listener without a port', 'listen: { proxy: localhost }', /listen\.proxy: expected HOST:PORT/],
    ['a listener port above 65535', 'listen: { control: "127.0.0.1:70000" }', /listen\.control: expected HOST:PORT/],
    ['a listener URL instead of HOST:PORT', 'listen: { metrics: "http://127.0.0.1:9464" }', /listen\.metrics: expected HOST:PORT/],
    [
      'an http:// upstream',
      'agents: { writer: { url: "http://127.0.0.1:9002", id: "spiffe://tollgate.local/agent/writer" } }',
      /agents\.writer\.url: upstream url must be https:\/\//,
    ],
    ['an upstream that is not a URL', 'agents: { writer: { url: "127.0.0.1:9002", id: "spiffe://tollgate.local/agent/writer" } }', /agents\.writer\.url: /],
    [
      'an agent with a bad SPIFFE ID',
      'agents: { writer: { url: "https://127.0.0.1:9002", id: "spiffe://tollgate.local/agent/../admin" } }',
      /agents\.writer\.id: invalid SPIFFE ID .*must not contain a "\.\." segment/,
    ],
    ['an agent without an id', 'agents: { writer: { url: "https://127.0.0.1:9002" } }', /agents\.writer\.id: /],
    [
      'a policy naming an unknown agent',
      `${AGENT}\npolicy: [ { from: "spiffe://tollgate.local/user/*", to: [writer, ghost] } ]`,
      /policy\.0\.to\.1: unknown agent "ghost": add it under agents:/,
    ],
    [
      'a bad SPIFFE ID in policy.from',
      `${AGENT}\npolicy: [ { from: "spiffe://tollgate.local/user/", to: [writer] } ]`,
      /policy\.0\.from: invalid SPIFFE ID "spiffe:\/\/tollgate\.local\/user\/": the path must not end with "\/"/,
    ],
    [
      'a bad SPIFFE ID in a policy.from list',
      `${AGENT}\npolicy: [ { from: ["spiffe://tollgate.local/a", "tollgate.local/b"], to: [writer] } ]`,
      /policy\.0\.from\.1: invalid SPIFFE ID "tollgate\.local\/b": it must start with spiffe:\/\//,
    ],
    [
      'a bad SPIFFE ID in admins',
      'admins: [ "https://tollgate.local/admin/ops" ]',
      /admins\.0: invalid SPIFFE ID "https:\/\/tollgate\.local\/admin\/ops": the scheme must be "spiffe"/,
    ],
    ['a query in an admin ID', 'admins: [ "spiffe://tollgate.local/admin?x=1" ]', /admins\.0: invalid SPIFFE ID .*a query is not allowed/],
    ['a bad trust domain', 'trustDomain: "tollgate local"', /trustDomain: invalid SPIFFE ID .*the trust domain has the character " "/],
    ['a trust domain with a path', 'trustDomain: "tollgate.local/x"', /trustDomain: .*a trust domain has no path/],
    ['maxDepth out of range', 'delegation: { maxDepth: 65 }', /delegation\.maxDepth: /],
    ['a fractional burst', 'rateLimits: { perEdge: { rps: 1, burst: 1.5 } }', /rateLimits\.perEdge\.burst: /],
    ['a non-positive body limit', 'maxBodyBytes: 0', /maxBodyBytes: /],
    ['an empty serverNames list', 'serverNames: []', /serverNames: /],
    ['an uppercase agent name', 'agents: { Writer: { url: "https://127.0.0.1:9002", id: "spiffe://tollgate.local/agent/writer" } }', /agents\.Writer: /],
  ])('%s', (_what, yaml, reason) => {
    expect(refusal(yaml)).toMatch(reason);
  });

  it('reports every problem at once, each with its own path', () => {
    const msg = refusal('listen: { proxy: nope }\nadmins: [ "x" ]\ndelegation: { tokenTtl: soon }');
    expect(msg).toMatch(/listen\.proxy: /);
    expect(msg).toMatch(/admins\.0: /);
    expect(msg).toMatch(/delegation\.tokenTtl: /);
  });

  it('refuses a document that is not a mapping', () => {
    expect(refusal('- 1\n- 2')).toMatch(/\(root\): .*expected object/);
    expect(refusal('just a string')).toMatch(/\(root\): .*expected object/);
  });
});

describe('config: YAML syntax errors', () => {
  it.each([
    ['an unclosed flow sequence', 'agents: { a: [ }'],
    ['a compact nested mapping', 'a: b\n  c: d: e'],
    ['a tab indent', 'listen:\n\tproxy: 127.0.0.1:1'],
  ])('%s -> ConfigError with a one-line message naming the file and position', (_what, yaml) => {
    const msg = refusal(yaml);
    expect(msg).toMatch(/^test\.yaml is not valid YAML: .+/);
    expect(msg).toMatch(/line \d+, column \d+/);
    expect(msg).not.toContain('\n');
  });

  it('keeps the YAML error as the cause', () => {
    try {
      parseConfigText('a: [', SOURCE);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).cause).toBeInstanceOf(Error);
    }
  });
});

describe('config: defaults and normalisation', () => {
  it('an empty file yields the full default config', () => {
    expect(parseConfigText('', SOURCE)).toEqual({
      trustDomain: 'tollgate.local',
      serverNames: ['localhost', '127.0.0.1'],
      listen: { proxy: '127.0.0.1:8443', control: '127.0.0.1:8444', metrics: '127.0.0.1:9464' },
      ca: { rootTtl: 365 * 86_400_000, intermediateTtl: 7 * 86_400_000, svidTtl: 3_600_000, tokenTtl: 600_000 },
      agents: {},
      policy: [],
      rateLimits: {},
      delegation: {
        maxDepth: 8,
        tokenTtl: 900_000,
        costUnit: 'USD',
        task: { maxCalls: 1000, maxFanOut: 32, maxConcurrent: 64, deadline: 900_000 },
      },
      graph: { recentTasks: 1000, maxCallsPerTask: 2000, window: 300_000, enforceCycles: false },
      taskOwners: { unknownTasks: 'refuse', maxEntries: 100_000, ttl: 604_800_000 },
      timeouts: { headers: 10_000, idle: 60_000, upstream: 30_000, shutdown: 10_000, handshake: 10_000, controlIdle: 120_000, controlUnauthenticated: 30_000 },
      connections: { proxy: 4096, controlUnauthenticated: 128 },
      maxBodyBytes: 1024 * 1024,
      maxHeaders: 100,
      admins: [],
      audit: { checkpointInterval: 10_000, rotateBytes: 0, keep: 0 },
    });
  });

  it('fills defaults next to the keys a partial section sets', () => {
    const cfg = parseConfigText('delegation: { maxDepth: 3, task: { maxCalls: 7 } }\nlisten: { proxy: "0.0.0.0:0" }\nca: { svidTtl: 90000 }', SOURCE);
    expect(cfg.delegation.maxDepth).toBe(3);
    expect(cfg.delegation.tokenTtl).toBe(900_000);
    expect(cfg.delegation.task).toEqual({ maxCalls: 7, maxFanOut: 32, maxConcurrent: 64, deadline: 900_000 });
    expect(cfg.listen).toEqual({ proxy: '0.0.0.0:0', control: '127.0.0.1:8444', metrics: '127.0.0.1:9464' });
    expect(cfg.ca.svidTtl).toBe(90_000);
    expect(cfg.ca.rootTtl).toBe(365 * 86_400_000);
  });

  it.each([
    ['trustDomain: Example.ORG', /trustDomain.*upper-case letters/],
    ['agents: { writer: { url: "https://127.0.0.1:9002", id: "spiffe://Example.org/agent/writer" } }', /agents\.writer\.id.*upper-case letters/],
    ['agents: { writer: { url: "https://127.0.0.1:9002", id: "SPIFFE://example.org/agent/writer" } }', /agents\.writer\.id.*lower case/],
    ['policy: [ { from: "spiffe://EXAMPLE.org/user/*", to: ["*"] } ]', /policy.*upper-case letters/],
    ['admins: [ "spiffe://EXAMPLE.ORG/admin/Ops" ]', /admins.*upper-case letters/],
  ])('refuses a SPIFFE ID or trust domain that is not canonical: %s', (line, rule) => {
    expect(() => parseConfigText(line, SOURCE)).toThrow(rule);
  });

  it('fills agent defaults and keeps canonical SPIFFE IDs as they are (the path keeps its case)', () => {
    const cfg = parseConfigText(
      [
        'trustDomain: example.org',
        'agents: { writer: { url: "https://127.0.0.1:9002", id: "spiffe://example.org/Agent/Writer" } }',
        'policy: [ { from: "spiffe://example.org/user/*", to: [writer] } ]',
        'admins: [ "spiffe://example.org/admin/Ops" ]',
      ].join('\n'),
      SOURCE,
    );
    expect(cfg.trustDomain).toBe('example.org');
    expect(cfg.agents.writer).toEqual({
      url: 'https://127.0.0.1:9002',
      id: 'spiffe://example.org/Agent/Writer',
      requireDelegationContext: false,
      maxRevisits: 0,
    });
    expect(cfg.policy[0].from).toBe('spiffe://example.org/user/*');
    expect(cfg.admins).toEqual(['spiffe://example.org/admin/Ops']);
  });

  it('accepts durations in every unit, and bare milliseconds', () => {
    const cfg = parseConfigText('timeouts: { headers: 250ms, idle: 2m, upstream: 1.5s, shutdown: 0 }\nca: { rootTtl: 2d, svidTtl: 1h }', SOURCE);
    expect(cfg.timeouts).toEqual({
      headers: 250,
      idle: 120_000,
      upstream: 1500,
      shutdown: 0,
      handshake: 10_000,
      controlIdle: 120_000,
      controlUnauthenticated: 30_000,
    });
    expect(cfg.ca.rootTtl).toBe(2 * 86_400_000);
    expect(cfg.ca.svidTtl).toBe(3_600_000);
  });

  it('accepts "*" as a policy target and an IPv6 listener', () => {
    const cfg = parseConfigText(`${AGENT}\npolicy: [ { from: "spiffe://tollgate.local/agent/*", to: "*" } ]\nlisten: { proxy: "[::1]:8443" }`, SOURCE);
    expect(cfg.policy[0].to).toBe('*');
    expect(cfg.listen.proxy).toBe('[::1]:8443');
  });
});

describe('config files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-config-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads a file and names it in errors', () => {
    const good = path.join(dir, 'good.yaml');
    fs.writeFileSync(good, `${AGENT}\npolicy: [ { from: "spiffe://tollgate.local/user/*", to: [writer] } ]\n`);
    expect(loadConfigFile(good).agents.writer.url).toBe('https://127.0.0.1:9002');

    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'maxBodyBytes: -1\n');
    expect(() => loadConfigFile(bad)).toThrow(new RegExp(`^${bad.replace(/[.\\/]/g, '\\$&')} is invalid: maxBodyBytes: `));
  });

  it('reports a missing file clearly', () => {
    const missing = path.join(dir, 'missing.yaml');
    expect(() => loadConfigFile(missing)).toThrow(ConfigError);
    expect(() => loadConfigFile(missing)).toThrow(/cannot read config file .*missing\.yaml: no such file/);
  });

  it('the example config in the repository is valid', () => {
    const cfg = loadConfigFile(path.join(REPO, 'tollgate.example.yaml'));
    expect(Object.keys(cfg.agents).length).toBeGreaterThan(0);
    expect(cfg.policy.length).toBeGreaterThan(0);
  });
});

describe('generated config reference', () => {
  const reference = renderConfigReference();

  it('has a row for every top-level key of the schema', () => {
    const keys = Object.keys(configSchemas().configSchema.shape);
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) expect(reference).toContain(`| \`${key}\` |`);
  });

  it('has a row for every leaf key path, with its description and default', () => {
    expect(reference).toMatch(/\| `delegation\.task\.maxCalls` \| integer > 0 \| `1000` \| calls in one root task tree \|/);
    expect(reference).toMatch(/\| `ca\.svidTtl` \| duration .* \| `"1h"` \| default SVID lifetime/);
    expect(reference).toMatch(/\| `listen\.proxy` \| string \| `"127\.0\.0\.1:8443"` \| mTLS A2A gateway listener/);
    expect(reference).toMatch(/\| `agents\.<name>\.url` \| string \(uri\) \| \*\*required\*\* \| the agent's upstream base URL/);
    expect(reference).toMatch(/\| `policy\[\]\.from` \| .* \| \*\*required\*\* \| caller SPIFFE ID/);
    expect(reference).toMatch(/\| `delegation\.maxDepth` \| integer ≥ 1, ≤ 64 \| `8` \|/);
    expect(reference).toMatch(/\| `serverNames` \| list of non-empty string, at least 1 \| `\["localhost","127\.0\.0\.1"\]` \|/);
  });

  it('covers every property the JSON Schema export holds, nested ones included', () => {
    const paths: string[] = [];
    const visit = (node: Record<string, any>, prefix: string) => {
      for (const [name, child] of Object.entries<Record<string, any>>(node.properties ?? {})) {
        const key = prefix ? `${prefix}.${name}` : name;
        paths.push(key);
        visit(child, key);
        if (child.additionalProperties && typeof child.additionalProperties === 'object') visit(child.additionalProperties, `${key}.<name>`);
        if (child.items?.properties) visit(child.items, `${key}[]`);
      }
    };
    visit(configJsonSchema(), '');
    expect(paths.length).toBeGreaterThan(50);
    for (const p of paths) expect(reference).toContain(`| \`${p}\` |`);
  });

  it('is a well-formed Markdown table (every row has four cells)', () => {
    const rows = reference.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(50);
    for (const row of rows) {
      const cells = row.replace(/\\\|/g, '').split('|').slice(1, -1);
      expect(cells, row).toHaveLength(4);
    }
  });

  it('prints the same reference when compiled and run as `node dist/config/docs.js`', () => {
    // Compile just the docs entry (and what it imports) to a temp dir, so the shared dist/ is left alone.
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-docs-'));
    try {
      execFileSync(
        process.execPath,
        [
          path.join(REPO, 'node_modules/typescript/bin/tsc'),
          '--outDir',
          out,
          '--rootDir',
          REPO,
          '--module',
          'NodeNext',
          '--moduleResolution',
          'NodeNext',
          '--target',
          'ES2022',
          '--strict',
          '--skipLibCheck',
          '--types',
          'node',
          path.join(REPO, 'config/docs.ts'),
        ],
        { cwd: REPO, stdio: 'pipe' },
      );
      fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'));
      fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
      const printed = execFileSync(process.execPath, [path.join(out, 'config/docs.js')], { encoding: 'utf8' });
      expect(printed).toBe(reference);
      // Imported rather than run, it prints nothing.
      const imported = execFileSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(path.join(out, 'config/docs.js'))})`], {
        encoding: 'utf8',
      });
      expect(imported).toBe('');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 25_000);
});
