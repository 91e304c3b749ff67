/**
 * `tollgate agent run --name NAME --config FILE`: the shortest path from `tollgate serve` to a governed call.
 * Reads agent NAME from the config the gateway runs (where it listens, the SPIFFE ID it must present),
 * bootstraps that identity through the gateway's control listener (a join token from the local CA, or
 * --token/--fingerprint from elsewhere), keeps it renewed, and serves a small @a2a-js/sdk echo agent there.
 */
import path from 'node:path';
import { parseCommandArgs, requireString } from '../args.js';
import { bootstrap } from '../../agent-bootstrap/bootstrap.js';
import { AgentIdentity } from '../../agent-bootstrap/identity.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';
import { formatHostPort, parseHostPort } from '../../control/listen.js';
import { CliError, UsageError } from '../errors.js';
import { AGENT_RUN_HELP } from '../help.js';
import { localAddress, localJoinToken } from '../local-ca.js';
import { explainingWrongPort } from '../probe.js';
import { loadSettings } from '../settings.js';
import { startEchoAgent } from '../agent/echo.js';
import type { Command } from '../io.js';

export const agentRun: Command = async (argv, io) => {
  const { values } = parseCommandArgs('agent run', argv, {
    name: { type: 'string' },
    config: { type: 'string' },
    'data-dir': { type: 'string' },
    store: { type: 'string' },
    server: { type: 'string' },
    token: { type: 'string' },
    fingerprint: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) {
    io.out(AGENT_RUN_HELP);
    return 0;
  }
  const name = requireString('agent run', values, 'name');
  const { config, dataDir } = loadSettings(values);
  const agent = Object.hasOwn(config.agents, name) ? config.agents[name] : undefined;
  if (!agent) {
    const known = Object.keys(config.agents);
    throw new CliError(
      `no agent "${name}" under agents: in ${values.config ?? 'the built-in default config'}${known.length ? ` (it has: ${known.join(', ')})` : ''}`,
      values.config
        ? 'register it there (name, url, id), or pass the --config the gateway runs with'
        : 'pass --config with the file `tollgate serve` runs with',
      2,
    );
  }
  const url = new URL(agent.url);
  const port = Number(url.port || 443);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const server = values.server ?? localAddress(config.listen.control);
  if (parseHostPort(server).port === 0) throw new UsageError('the config listens for control on port 0: pass --server HOST:PORT', 'agent run');

  let token = values.token ?? process.env.TOLLGATE_TOKEN;
  let fingerprint = values.fingerprint;
  if (token === undefined) {
    ({ token, fingerprint } = await localJoinToken(config, dataDir, agent.id));
  } else if (fingerprint === undefined) {
    throw new UsageError('--fingerprint is required with --token (the sha256:<hex> `tollgate serve` prints)', 'agent run');
  }
  const outDir = path.resolve(values.out ?? path.join('identities', name));
  const material = await explainingWrongPort(server, () => bootstrap({ server, token, fingerprint, outDir }));
  const identity = new AgentIdentity(material, { server, dir: outDir });
  const describe = (m: SvidMaterial) => `${m.spiffeId}, valid until ${new Date(m.notAfter).toISOString()}`;
  identity.on('rotated', (m: SvidMaterial) => io.err(`${new Date().toISOString()} renewed: ${describe(m)}`));
  identity.on('error', (err: Error) => io.err(`${new Date().toISOString()} renewal failed, retrying: ${err.message}`));
  identity.start();

  let agentServer;
  try {
    agentServer = await startEchoAgent({ name, identity, host, port });
  } catch (e) {
    identity.stop();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`${formatHostPort(host, port)} (agents.${name}.url) is already in use`, 'stop what runs there, or change the url in the config');
    throw e;
  }
  io.err(`identity ${describe(material)} in ${outDir} (renewed at half-life)`);
  io.out(`agent ${name} is serving on ${agentServer.url} (only the gateway may connect)`);
  io.out(`call it through the gateway: https://${localAddress(config.listen.proxy)}/a2a/${name}/   Ctrl-C to stop`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await agentServer.close(1000);
  identity.stop();
  io.err(`agent ${name}: stopped`);
  return 0;
};
