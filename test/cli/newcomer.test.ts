// What a newcomer hit on the command line (issue 16, item 6; item 2's admin identity): each checked on the
// real binary against a real `tollgate serve`.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateToDot } from '../../governance/graph/dot.js';
import type { AggregateJSON } from '../../governance/graph/json.js';
import { freePort } from '../fakes/wait.js';
import { startServe, TD, type ServeFixture } from './fixture.js';
import { tollgate } from './run.js';

const NODE_RATES = { in: { calls: 0, errors: 0, refusals: 0 }, out: { calls: 0, errors: 0, refusals: 0 }, errorRate: 0, refusalRate: 0, health: 'ok' as const };
const EDGE_RATES = { latencyP50Ms: 1, latencyP99Ms: 1, refusalsByReason: {}, errorsByKind: {}, errorRate: 0, refusalRate: 0, health: 'ok' as const };

let f: ServeFixture;
let proxy = '';
let metrics = '';

beforeAll(async () => {
  f = await startServe();
  proxy = /proxy\s+https:\/\/(127\.0\.0\.1:\d+)/.exec(f.serve.stdout())![1];
  metrics = /metrics\s+http:\/\/(127\.0\.0\.1:\d+)/.exec(f.serve.stdout())![1];
}, 120_000);
afterAll(async () => f?.stop());

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };

describe('tollgate --version', () => {
  it.each([['--version'], ['-V'], ['version']])('%s prints the package version', (flag) => {
    const r = tollgate([flag]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`tollgate ${pkg.version}\n`);
  });
  it('is in the main help', () => {
    expect(tollgate(['--help']).stdout).toContain('tollgate --version');
  });
});

describe('unknown commands point at `tollgate --help`, once', () => {
  it.each([['ca'], ['bogus'], ['agent']])('tollgate %s', (word) => {
    const r = tollgate([word]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command ".*"; run `tollgate --help`\n$/);
    expect(r.stderr).not.toContain('--help --help');
  });
});

describe('options before or after the command', () => {
  it('tollgate --data-dir D token create --spiffe-id ID == tollgate token create --data-dir D --spiffe-id ID', () => {
    const id = `spiffe://${TD}/agent/early`;
    const before = tollgate(['--data-dir', f.dataDir, '--ttl=1m', 'token', 'create', '--spiffe-id', id]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toMatch(/^\S+\n$/);
    expect(before.stderr).toContain(`join token for ${id}`);
  });

  it('tollgate ctl --server S --cert-dir C agents list == tollgate ctl agents list --server S --cert-dir C', () => {
    const admin = path.join(f.work, 'admin-early');
    const init = tollgate(['--data-dir', f.dataDir, 'admin', 'init', '--spiffe-id', `spiffe://${TD}/admin/early`, '--out', admin]);
    expect(init.code, init.stderr).toBe(0);
    // not listed under admins (this gateway has none): the identity is written, and ctl is refused for that reason
    const before = tollgate(['ctl', '--server', f.server, '--cert-dir', admin, 'agents', 'list']);
    const after = tollgate(['ctl', 'agents', 'list', '--server', f.server, '--cert-dir', admin]);
    for (const r of [before, after]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`this identity is not an admin: add spiffe://${TD}/admin/early to admins:`);
    }
    const top = tollgate(['--json', 'ctl', '--server', f.server, '--cert-dir', admin, 'agents', 'list']);
    expect(top.stderr).toContain('this identity is not an admin');
  });
});

describe('tollgate admin init', () => {
  it('writes an identity from the local CA and says when it is not listed under admins:', () => {
    const out = path.join(f.work, 'admin-x');
    const cfg = path.join(f.work, 'tollgate.yaml');
    const r = tollgate(['admin', 'init', '--config', cfg, '--data-dir', f.dataDir, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`spiffe://${TD}/admin/ops\n`);
    for (const file of ['key.pem', 'cert.pem', 'bundle.pem']) expect(fs.existsSync(path.join(out, file))).toBe(true);
    expect(fs.statSync(path.join(out, 'key.pem')).mode & 0o077).toBe(0);
    expect(r.stderr).toContain(`spiffe://${TD}/admin/ops is not listed in admins: in ${cfg}`);
    expect(r.stderr).toContain(`tollgate bootstrap --watch --server HOST:PORT --out ${out}`); // this config listens on port 0
  });

  it('the banner says ctl needs an admin when the config lists none', () => {
    expect(f.serve.stdout()).toContain('tollgate ctl needs an admin: list one under admins:');
  });
});

describe('tollgate graph', () => {
  it('defaults its server like ctl does (TOLLGATE_METRICS_SERVER, else 127.0.0.1:9464)', () => {
    const r = tollgate(['graph'], { env: { TOLLGATE_METRICS_SERVER: metrics } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^call graph over the last \d+s/);
    expect(tollgate(['graph', '--help']).stdout).toContain('else 127.0.0.1:9464');
  });

  it('takes a task id that starts with "-" as the value of --task', () => {
    const r = tollgate(['graph', '--server', metrics, '--task', '-AbCdEfGhIjKlMnOpQrStUv']);
    expect(r.code).toBe(1); // not 2: it was read as a task id, and the gateway has no such task
    expect(r.stderr).toContain('no task -AbCdEfGhIjKlMnOpQrStUv');
  });

  it('DOT labels say "1 call", not "1 calls"', () => {
    const g: AggregateJSON = {
      at: 0,
      windowMs: 60_000,
      costUnit: 'USD',
      nodes: [
        { id: 'spiffe://x/a', name: 'a', onCycle: false, ...NODE_RATES },
        { id: 'spiffe://x/b', name: 'b', onCycle: false, ...NODE_RATES },
      ],
      edges: [
        {
          from: 'spiffe://x/a',
          to: 'spiffe://x/b',
          fromName: 'a',
          toName: 'b',
          calls: 1,
          errors: 1,
          refusals: 0,
          latencyAvgMs: 1,
          latencyMaxMs: 1,
          onCycle: false,
          ...EDGE_RATES,
        },
        {
          from: 'spiffe://x/b',
          to: 'spiffe://x/a',
          fromName: 'b',
          toName: 'a',
          calls: 2,
          errors: 0,
          refusals: 0,
          latencyAvgMs: 1,
          latencyMaxMs: 1,
          onCycle: false,
          ...EDGE_RATES,
        },
      ],
      cycles: [],
    };
    const dot = aggregateToDot(g);
    expect(dot).toContain('1 call, 1 error');
    expect(dot).toContain('2 calls');
    expect(dot).not.toMatch(/\b1 calls\b/);
  });
});

describe('ctl takes a task id that starts with "-" as an argument', () => {
  it('tollgate ctl task cancel -Xyz… reaches the gateway (no usage error)', () => {
    const admin = path.join(f.work, 'admin-dash');
    expect(tollgate(['admin', 'init', '--data-dir', f.dataDir, '--spiffe-id', `spiffe://${TD}/admin/dash`, '--out', admin]).code).toBe(0);
    const r = tollgate(['ctl', 'task', 'cancel', '-AbCdEfGhIjKlMnOpQrStUv', '--server', f.server, '--cert-dir', admin]);
    expect(r.code).toBe(1); // the gateway answered (this identity is no admin here), so the id was parsed as the argument
    expect(r.stderr).not.toMatch(/unknown option|ambiguous/i);
    expect(r.stderr).toContain('is not an admin');
  });
});

describe('no deprecation warnings', () => {
  it('bootstrap and ctl to an IP address send no IP as the TLS server name (DEP0123), and still check the IP', () => {
    const out = path.join(f.work, 'ip-target');
    const r = tollgate(['bootstrap', '--server', f.server, '--token', f.token(`spiffe://${TD}/agent/ip-target`), '--fingerprint', f.fp, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const ctl = tollgate(['ctl', 'agents', 'list', '--server', f.server, '--cert-dir', out]);
    expect(ctl.stderr).toContain('is not an admin'); // connected and verified the gateway, then refused as no admin
    for (const x of [r, ctl]) expect(x.stderr).not.toMatch(/DeprecationWarning|DEP0123/);
  });
});

describe('a wrong port says what listens there', () => {
  const bootstrapAt = (server: string) =>
    tollgate([
      'bootstrap',
      '--server',
      server,
      '--token',
      f.token(`spiffe://${TD}/agent/wrong-port`),
      '--fingerprint',
      f.fp,
      '--out',
      path.join(f.work, 'wrong-port'),
    ]);

  it('the proxy port', () => {
    for (const r of [bootstrapAt(proxy), tollgate(['ctl', 'agents', 'list', '--server', proxy, '--cert-dir', path.join(f.work, 'admin-x')])]) {
      expect(r.code).toBe(1);
      // an admin client (with a certificate) gets through the proxy's h2 listener, whose gRPC binding answers
      // UNIMPLEMENTED for the admin service: ctl names the mix-up from that answer
      expect(r.stderr).toMatch(
        /cannot reach the (Tollgate CA|gateway's control listener) at 127\.0\.0\.1:\d+: that is the gateway's A2A proxy listener \(listen\.proxy, HTTPS\), not its control listener|the server at 127\.0\.0\.1:\d+ does not serve the Tollgate admin API: is --server the control listener \(listen\.control\), not the proxy\?/,
      );
      expect(r.stderr).toContain(proxy);
      expect(r.stderr).not.toMatch(/SSL routines|openssl|rec_layer/i);
    }
  });

  it('the metrics port', () => {
    for (const r of [bootstrapAt(metrics), tollgate(['ctl', 'agents', 'list', '--server', metrics, '--cert-dir', path.join(f.work, 'admin-x')])]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`at ${metrics}: that is the gateway's metrics listener (plain HTTP, listen.metrics)`);
      expect(r.stderr).not.toMatch(/SSL routines|wrong version number/i);
    }
  });

  it('a closed port, and a server that speaks neither TLS nor HTTP', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const r = bootstrapAt(closed);
    expect(r.stderr).toContain(`cannot reach the Tollgate CA at ${closed}: nothing is listening there`);
    const silent = net.createServer((s) => s.end('SSH-2.0-not-tollgate\r\n'));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const other = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const r2 = tollgate(['ctl', 'agents', 'list', '--server', other, '--cert-dir', path.join(f.work, 'admin-x')]);
      expect(r2.code).toBe(1);
      expect(r2.stderr).not.toMatch(/SSL routines/);
      expect(r2.stderr).toContain(other);
    } finally {
      silent.close();
    }
  });
});

describe('config errors', () => {
  it('suggest the nearest key', () => {
    const cfg = path.join(f.work, 'typo.yaml');
    fs.writeFileSync(cfg, 'delegation: { maxdepth: 3 }\nlisten: { proxi: 127.0.0.1:0 }\nratelimits: {}\n');
    const r = tollgate(['serve', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('delegation.maxdepth: unknown key (did you mean maxDepth?)');
    expect(r.stderr).toContain('listen.proxi: unknown key (did you mean proxy?)');
    expect(r.stderr).toContain('ratelimits: unknown key (did you mean rateLimits?)');
  });

  it('name no key when nothing is close', () => {
    const cfg = path.join(f.work, 'far.yaml');
    fs.writeFileSync(cfg, 'completelyDifferent: 1\n');
    const r = tollgate(['serve', '--config', cfg]);
    expect(r.stderr).toContain('completelyDifferent: unknown key');
    expect(r.stderr).not.toContain('did you mean');
  });

  it('a missing file says which path was tried', () => {
    const r = tollgate(['serve', '--config', 'no-such.yaml'], { cwd: f.work });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read config file no-such.yaml (${path.join(fs.realpathSync(f.work), 'no-such.yaml')}): no such file`);
  });
});
