/**
 * Bringing the demo's world up, the way a user would: a workspace in a temp dir, the config, the CA
 * (`tollgate ca init`), the gateway (`tollgate serve`), a join token per identity (`tollgate token create`),
 * each identity bootstrapped with agent-bootstrap (root pinned by fingerprint), then the A2A agents.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMtlsFetch, type AgentIdentity } from '../agent-bootstrap/index.js';
import { ADMIN_ID, AGENT_NAMES, agentId, demoConfigYaml, GATEWAY_ID, USER_ID, USER_NAME, type AgentName, type DemoPorts } from './config.js';
import { runCli } from './cli.js';
import { Cleanup } from './cleanup.js';
import { DemoError } from './errors.js';
import { spawnGateway, type GatewayProcess } from './gateway-process.js';
import { bootstrapIdentity, createTokens, type Enrollee } from './identities.js';
import type { Narrator } from './narrator.js';
import { freePorts } from './ports.js';
import { GatewayClients } from './agents/a2a.js';
import { CallLog, type AgentDeps, type DemoAgent } from './agents/agent.js';
import { observingFetch } from './agents/observe.js';
import { startOrchestrator } from './agents/orchestrator.js';
import { startResearcher } from './agents/researcher.js';
import { startWriter } from './agents/writer.js';
import { startFlaky } from './agents/flaky.js';
import { startRogue, type RogueAgent } from './agents/rogue.js';

export interface DemoWorld {
  dir: string;
  configPath: string;
  dataDir: string;
  identitiesDir: string;
  logPath: string;
  auditPath: string;
  ports: DemoPorts;
  fingerprint: string;
  gateway: GatewayProcess;
  log: CallLog;
  user: GatewayClients;
  rogue: RogueAgent;
  agents: DemoAgent[];
}

export async function startWorld(say: Narrator, cleanup: Cleanup, opts: { keep: boolean }): Promise<DemoWorld> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-demo-'));
  cleanup.add('remove the workspace', () => rmSync(dir, { recursive: true, force: true }));
  cleanup.addLastResort(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'data');
  const identitiesDir = path.join(dir, 'identities');
  const configPath = path.join(dir, 'tollgate.yaml');
  const logPath = path.join(dir, 'gateway.log');
  const auditPath = path.join(dir, 'audit.log');
  say.line(`  workspace: ${dir} (removed at the end)`);

  const [proxy, control, metrics, ...agentPorts] = await freePorts(3 + AGENT_NAMES.length);
  const ports: DemoPorts = { proxy, control, metrics, agents: Object.fromEntries(AGENT_NAMES.map((n, i) => [n, agentPorts[i]])) as Record<AgentName, number> };
  writeFileSync(configPath, demoConfigYaml(ports, auditPath));

  const fingerprint = await say.progress(
    'creating the CA (tollgate ca init)',
    async () => {
      const { stdout } = await runCli(['ca', 'init', '--config', configPath, '--data-dir', dataDir]);
      const fp = /sha256:[0-9a-f]{64}/.exec(stdout)?.[0];
      if (!fp) throw new DemoError('cli', `\`tollgate ca init\` printed no root fingerprint (got ${JSON.stringify(stdout.trim())})`);
      return fp;
    },
    (fp) => `root ${fp.slice(0, 23)}…`,
  );

  const enrollees: Enrollee[] = [
    { name: USER_NAME, spiffeId: USER_ID },
    ...AGENT_NAMES.map((n) => ({ name: n, spiffeId: agentId(n) })),
    ...(opts.keep ? [{ name: 'admin', spiffeId: ADMIN_ID }] : []),
  ];
  // Tokens come from the CA on disk, so they are made while the gateway starts.
  const [gateway, tokens] = await say.progress(
    `starting the gateway (tollgate serve) and ${enrollees.length} join tokens (tollgate token create)`,
    async () => {
      const gw = spawnGateway({ configPath, dataDir, logPath, ports });
      cleanup.add('stop the gateway', () => gw.stop());
      cleanup.addLastResort(() => gw.killNow());
      // allSettled, not all: when the gateway fails to start, the `token create` children are still writing in the
      // data dir, and removing the workspace under them failed (ENOTEMPTY); wait for both, then report the first failure
      const [ready, toks] = await Promise.allSettled([gw.ready, createTokens(enrollees, dataDir, configPath)]);
      if (ready.status === 'rejected') throw ready.reason;
      if (toks.status === 'rejected') throw toks.reason;
      return [gw, toks.value] as const;
    },
  );
  const printed = gateway.fingerprint();
  if (printed && printed !== fingerprint) throw new DemoError('gateway', `tollgate serve reports root ${printed}, but ca init created ${fingerprint}`);

  const identities = await say.progress(`bootstrapping ${enrollees.length} identities (agent-bootstrap, root pinned by fingerprint)`, () =>
    Promise.all(
      enrollees.map(async (e) => {
        const id = await bootstrapIdentity(e, tokens.get(e.name)!, { server: `127.0.0.1:${control}`, fingerprint, baseDir: identitiesDir });
        cleanup.add(`stop renewing ${e.spiffeId}`, () => id.stop());
        return [e.name, id] as const;
      }),
    ),
  );
  const identity = new Map<string, AgentIdentity>(identities);

  const gatewayUrl = `https://127.0.0.1:${proxy}`;
  const log = new CallLog();
  const deps = (name: AgentName): AgentDeps => ({
    identity: identity.get(name)!,
    gatewayUrl,
    gatewayId: GATEWAY_ID,
    port: ports.agents[name],
    narrator: say,
    log,
  });
  const { agents, rogue } = await say.progress(`starting ${AGENT_NAMES.length} A2A agents (@a2a-js/sdk on mTLS, callable only by the gateway)`, async () => {
    const started: DemoAgent[] = [];
    const track = async <T extends DemoAgent>(p: Promise<T>): Promise<T> => {
      const a = await p;
      started.push(a);
      cleanup.add(`stop the ${a.name} agent`, () => a.close());
      return a;
    };
    const [, , , , r] = await Promise.all([
      track(startOrchestrator(deps('orchestrator'))),
      track(startResearcher(deps('researcher'))),
      track(startWriter(deps('writer'))),
      track(startFlaky(deps('flaky'))),
      track(startRogue(deps('rogue'))),
    ]);
    return { agents: started, rogue: r };
  });

  const userFetch = createMtlsFetch(identity.get(USER_NAME)!, { expectedServerId: GATEWAY_ID });
  cleanup.add('close the user connections', () => userFetch.close());
  const user = new GatewayClients(gatewayUrl, observingFetch(userFetch));
  say.line(`  gateway: A2A proxy ${gatewayUrl}/a2a/<agent>, control (gRPC) 127.0.0.1:${control}, metrics http://127.0.0.1:${metrics}`);
  return { dir, configPath, dataDir, identitiesDir, logPath, auditPath, ports, fingerprint, gateway, log, user, rogue, agents };
}
