/**
 * The README's "put a real agent behind the gateway" sample (demo/agents/minimal-agent.ts), behind a real
 * `tollgate serve`: two minimal agents, greeter -> echo, called by a user through the gateway. The greeter
 * may only call onward with a delegation context, so the answer proves the sample carries it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { createMtlsFetch, type AgentIdentity } from '../../agent-bootstrap/index.js';
import { startMinimalAgent } from '../../demo/agents/minimal-agent.js';
import { answerText, sendRequest } from '../../demo/agents/a2a.js';
import { runCli } from '../../demo/cli.js';
import { startGatewayProcess, type GatewayProcess } from '../../demo/gateway-process.js';
import { bootstrapIdentity, createTokens } from '../../demo/identities.js';
import { freePorts } from '../../demo/ports.js';
import { ensureBuilt } from './fixture.js';

const TD = 'spiffe://tollgate.local';
let dir: string;
let gateway: GatewayProcess | undefined;
const closers: (() => unknown)[] = [];
let proxy: number;
let metrics: number;
let user: AgentIdentity;

beforeAll(async () => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-minimal-'));
  const [p, control, m, echoPort, greeterPort] = await freePorts(5);
  proxy = p;
  metrics = m;
  const configPath = path.join(dir, 'tollgate.yaml');
  fs.writeFileSync(
    configPath,
    stringify({
      listen: { proxy: `127.0.0.1:${proxy}`, control: `127.0.0.1:${control}`, metrics: `127.0.0.1:${metrics}` },
      agents: {
        echo: { url: `https://127.0.0.1:${echoPort}`, id: `${TD}/agent/echo` },
        greeter: { url: `https://127.0.0.1:${greeterPort}`, id: `${TD}/agent/greeter`, requireDelegationContext: true },
      },
      policy: [
        { from: `${TD}/user/*`, to: ['greeter'] },
        { from: `${TD}/agent/greeter`, to: ['echo'] },
      ],
      audit: { path: path.join(dir, 'audit.log') },
    }),
  );
  const dataDir = path.join(dir, 'data');
  const fingerprint = (await runCli(['ca', 'init', '--config', configPath, '--data-dir', dataDir])).stdout.trim();
  const who = ['user/alice', 'agent/echo', 'agent/greeter'].map((p) => ({ name: p.split('/')[1], spiffeId: `${TD}/${p}` }));
  const [gw, tokens] = await Promise.all([
    startGatewayProcess({ configPath, dataDir, logPath: path.join(dir, 'gateway.log'), ports: { proxy, control, metrics } }),
    createTokens(who, dataDir, configPath),
  ]);
  gateway = gw;
  const common = { fingerprint, control: `127.0.0.1:${control}`, proxy: `127.0.0.1:${proxy}` };
  const echo = await startMinimalAgent({ ...common, name: 'echo', token: tokens.get('echo')!, dir: path.join(dir, 'echo'), port: echoPort });
  closers.push(() => echo.close());
  const greeter = await startMinimalAgent({
    ...common,
    name: 'greeter',
    token: tokens.get('greeter')!,
    dir: path.join(dir, 'greeter'),
    port: greeterPort,
    onward: 'echo',
  });
  closers.push(() => greeter.close());
  user = await bootstrapIdentity(who[0], tokens.get('alice')!, { server: common.control, fingerprint, baseDir: dir });
  closers.push(() => user.stop());
}, 90_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await gateway?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('minimal agent (README sample)', () => {
  it('serves A2A behind the gateway and calls onward through it with the delegation context', async () => {
    const fetchImpl = createMtlsFetch(user, { expectedServerId: `${TD}/tollgate/gateway` });
    closers.push(() => fetchImpl.close());
    const factory = new ClientFactory(
      ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
        transports: [new JsonRpcTransportFactory({ fetchImpl })],
        cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
      }),
    );
    const greeter = await factory.createFromUrl(`https://127.0.0.1:${proxy}/a2a/greeter/`);
    // the card came through the gateway: its endpoint is the gateway's route, not the agent's own port
    expect((await greeter.getAgentCard()).supportedInterfaces[0].url).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${proxy}/a2a/greeter`));
    const answer = answerText(await greeter.sendMessage(sendRequest('hello')));
    expect(answer).toBe("greeter got 'hello'; echo said: echo got 'greeter got 'hello''");

    // the gateway saw both hops as one delegation chain
    const graph = (await (await fetch(`http://127.0.0.1:${metrics}/graph`)).json()) as { edges: { fromName: string; toName: string; calls: number }[] };
    const edges = graph.edges.map((e) => `${e.fromName} -> ${e.toName}`).sort();
    expect(edges).toEqual(['alice -> greeter', 'greeter -> echo']);
  });
});
