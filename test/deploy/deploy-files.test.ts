// deploy/container, deploy/compose and deploy/systemd, checked as far as a machine without a Docker daemon
// allows: the Dockerfile's structure and every file it copies, the compose file's services and the config
// both replicas run (through the real config schema), and the systemd unit with `systemd-analyze verify`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfigText } from '../../config/load.js';
import { storeUrl } from '../../config/schema.js';
import { repoRoot } from './tools.js';

const read = (rel: string) => fs.readFileSync(path.join(repoRoot, rel), 'utf8');
const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
});

describe('deploy/container/Dockerfile', () => {
  const text = read('deploy/container/Dockerfile');
  // instructions, with continuation lines joined and comments dropped
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = lines.filter((l) => l.startsWith('FROM '));
  const runtime = lines.slice(lines.indexOf(stages[stages.length - 1]));

  it('is multi-stage: a build stage, and a slim runtime stage that copies from it', () => {
    expect(stages).toEqual([expect.stringMatching(/^FROM node:20-\S+ AS build$/), expect.stringMatching(/^FROM node:20-\S*slim AS runtime$/)]);
    expect(runtime.some((l) => l.startsWith('COPY --from=build'))).toBe(true);
    expect(runtime.join('\n')).not.toMatch(/npm (ci|install)|tsc/); // nothing is built in the image that runs
  });

  it('runs as a non-root user, with the data dir as a volume that the command uses', () => {
    const users = runtime.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toBe('USER node');
    const volume = /^VOLUME \["([^"]+)"\]$/.exec(runtime.find((l) => l.startsWith('VOLUME'))!)![1];
    expect(volume).toBe('/var/lib/tollgate');
    const cmd = JSON.parse(runtime.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
    expect(cmd.slice(0, 1)).toEqual(['serve']);
    expect(cmd[cmd.indexOf('--data-dir') + 1]).toBe(volume);
    expect(runtime.join('\n')).toContain(`chown node:node ${volume}`);
    expect(JSON.parse(runtime.find((l) => l.startsWith('ENTRYPOINT '))!.slice(11))).toEqual(['node', '/app/dist/cli/main.js']);
  });

  it('copies files that exist, and every source folder the build compiles', () => {
    const sources = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.slice(5).split(/\s+/).slice(0, -1));
    for (const s of sources) expect(fs.existsSync(path.join(repoRoot, s)), s).toBe(true);
    const include = (JSON.parse(read('tsconfig.json')) as { include: string[] }).include;
    for (const dir of [...include, 'proto']) expect(sources, `the build stage copies ${dir}/`).toContain(dir);
  });

  it('its config is valid, listens on every interface on the ports it exposes, and guards /graph with a token', () => {
    const config = parseConfigText(read('deploy/container/tollgate.yaml'), 'deploy/container/tollgate.yaml');
    const exposed = runtime
      .find((l) => l.startsWith('EXPOSE '))!
      .slice(7)
      .split(/\s+/)
      .map(Number);
    expect(Object.values(config.listen).map((l) => l.replace(/^0\.0\.0\.0:/, ''))).toEqual(exposed.map(String));
    expect(config.uiToken?.length).toBeGreaterThanOrEqual(16);
    const healthcheck = runtime.find((l) => l.startsWith('HEALTHCHECK'))!;
    expect(healthcheck).toContain(`127.0.0.1:${exposed[2]}/metrics`);
  });

  it('.dockerignore keeps state, keys and build output out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const p of ['.git', 'node_modules', 'dist', '.tollgate*', 'identities', '*-id']) expect(ignored).toContain(p);
  });
});

describe('deploy/compose/compose.yaml', () => {
  interface Service {
    image?: string;
    build?: { context: string; dockerfile: string };
    environment?: Record<string, string>;
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
    command?: string[] | string;
    healthcheck?: object;
    ports?: string[];
  }
  const compose = parse(read('deploy/compose/compose.yaml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const s = compose.services;
  const replicas = ['tollgate-a', 'tollgate-b'];

  it('has two replicas, PostgreSQL and Redis (with health checks), and a one-shot CA init', () => {
    expect(Object.keys(s).sort()).toEqual(['ca-init', 'postgres', 'redis', 'tollgate-a', 'tollgate-b']);
    expect(s.postgres.image).toMatch(/^postgres:\d+/);
    expect(s.redis.image).toMatch(/^redis:\d+/);
    expect(s.postgres.healthcheck).toBeDefined();
    expect(s.redis.healthcheck).toBeDefined();
  });

  it('builds the image from deploy/container/Dockerfile with the repository as context', () => {
    for (const name of [...replicas, 'ca-init']) {
      const b = s[name].build!;
      const context = path.resolve(repoRoot, 'deploy/compose', b.context);
      expect(context).toBe(repoRoot);
      expect(fs.existsSync(path.join(context, b.dockerfile))).toBe(true);
    }
  });

  it('both replicas share one store and one config, each with its own data dir, after the CA exists', () => {
    const stores = replicas.map((r) => s[r].environment?.TOLLGATE_STORE);
    expect(new Set(stores).size).toBe(1);
    expect(storeUrl.safeParse(stores[0]).success).toBe(true);
    expect(stores[0]).toContain('@postgres:');
    const dataVolumes = replicas.map((r) => s[r].volumes!.find((v) => v.endsWith(':/var/lib/tollgate'))!.split(':')[0]);
    expect(new Set(dataVolumes).size).toBe(2);
    for (const v of dataVolumes) expect(compose.volumes).toHaveProperty(v);
    for (const r of replicas) {
      expect(s[r].volumes).toContain('./tollgate.yaml:/etc/tollgate/tollgate.yaml:ro');
      expect(s[r].depends_on).toEqual({
        'ca-init': { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
    // the host ports do not collide
    const hostPorts = replicas.flatMap((r) => s[r].ports!.map((p) => p.split(':')[0]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it("ca-init creates the CA in replica A's data dir and gives replica B the same root (0600)", () => {
    const init = s['ca-init'];
    const mounts = Object.fromEntries(init.volumes!.map((v) => v.split(':')).map(([a, b]) => [b, a]));
    expect(mounts['/data/a']).toBe('tollgate-a');
    expect(mounts['/data/b']).toBe('tollgate-b');
    const script = ([] as string[]).concat(init.command!).join(' ');
    expect(script).toMatch(/ca init --config \/etc\/tollgate\/tollgate\.yaml --data-dir \/data\/a/);
    expect(script).toMatch(/install -m 600 .*\/data\/a\/root-ca\.pem \/data\/b\/root-ca\.pem/);
    expect(init.environment?.TOLLGATE_STORE).toBe(s['tollgate-a'].environment?.TOLLGATE_STORE);
  });

  it("the replicas' config is valid and shares limits, budgets and the graph on the compose Redis", () => {
    const config = parseConfigText(read('deploy/compose/tollgate.yaml'), 'deploy/compose/tollgate.yaml');
    expect(config.redis?.url).toBe('redis://redis:6379');
    for (const r of replicas) expect(config.serverNames).toContain(r);
  });
});

describe('deploy/systemd/tollgate.service', () => {
  const unit = path.join(repoRoot, 'deploy/systemd/tollgate.service');
  const verify = (file: string) => {
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw new Error(`systemd-analyze not found (Debian package systemd): ${r.error.message}`);
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };

  it('passes systemd-analyze verify without a warning', () => {
    const r = verify(unit);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('verify would catch a mistake (a typo, a missing executable)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-systemd-'));
    tmp.push(dir);
    const copy = path.join(dir, 'tollgate.service');
    fs.writeFileSync(copy, read('deploy/systemd/tollgate.service').replace('ProtectHome=yes', 'ProtectHomee=yes'));
    expect(verify(copy).output).toContain("Unknown key 'ProtectHomee'");
    fs.writeFileSync(copy, read('deploy/systemd/tollgate.service').replace('/usr/bin/node', '/usr/bin/no-such-node'));
    expect(verify(copy).status).not.toBe(0);
  });

  it('runs serve as its own user, with the state directory as the data dir, reload as SIGHUP, and no capabilities', () => {
    const text = read('deploy/systemd/tollgate.service');
    expect(text).toMatch(/^User=tollgate$/m);
    expect(text).toMatch(/^StateDirectory=tollgate$/m);
    expect(text).toMatch(/^ExecStart=\S+ \S+\/dist\/cli\/main\.js serve --config \S+ --data-dir \/var\/lib\/tollgate$/m);
    expect(text).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(text).toMatch(/^CapabilityBoundingSet=$/m);
    expect(text).not.toMatch(/MemoryDenyWriteExecute=yes/); // V8 needs writable executable memory
  });
});
