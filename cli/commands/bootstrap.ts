import path from 'node:path';
import { existsSync } from 'node:fs';
import { parseCommandArgs, requireString } from '../args.js';
import { bootstrap as runBootstrap } from '../../agent-bootstrap/bootstrap.js';
import { AgentIdentity } from '../../agent-bootstrap/identity.js';
import { CERT_FILE, KEY_FILE } from '../../agent-bootstrap/files.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';
import { CliError, UsageError } from '../errors.js';
import { BOOTSTRAP_HELP } from '../help.js';
import { explainingWrongPort } from '../probe.js';
import type { Command, Io } from '../io.js';

function describe(m: SvidMaterial): string {
  return `${m.spiffeId} serial ${m.serial}, valid until ${new Date(m.notAfter).toISOString()}`;
}

export const bootstrap: Command = async (argv, io) => {
  const { values } = parseCommandArgs('bootstrap', argv, {
    server: { type: 'string' },
    token: { type: 'string' },
    fingerprint: { type: 'string' },
    out: { type: 'string' },
    watch: { type: 'boolean' },
    'renew-at': { type: 'string' },
  });
  if (values.help) {
    io.out(BOOTSTRAP_HELP);
    return 0;
  }
  const server = requireString('bootstrap', values, 'server');
  const outDir = path.resolve(requireString('bootstrap', values, 'out'));
  const token = values.token ?? process.env.TOLLGATE_TOKEN;
  const renewAt = renewFraction(values['renew-at']);
  const resume = !token && values.watch && existsSync(path.join(outDir, KEY_FILE)) && existsSync(path.join(outDir, CERT_FILE));

  let identity: AgentIdentity;
  if (resume) {
    identity = await AgentIdentity.fromDir(outDir, { server, ref: true, renewAt });
    io.err(`resuming ${describe(identity.material)} from ${outDir}`);
  } else {
    if (!token) throw new UsageError('--token is required (or set TOLLGATE_TOKEN)', 'bootstrap');
    const fingerprint = requireString('bootstrap', values, 'fingerprint');
    const m = await explainingWrongPort(server, () => runBootstrap({ server, token, fingerprint, outDir }));
    io.err(`wrote ${outDir}/{key,cert,bundle}.pem for ${describe(m)}`);
    // ref: with --watch this process exists to renew, so the renewal timer keeps it alive.
    identity = new AgentIdentity(m, { server, dir: outDir, ref: true, renewAt });
  }
  io.out(identity.spiffeId);
  if (!values.watch) return 0;
  return watch(identity, io);
};

function renewFraction(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const f = Number(value);
  if (!Number.isFinite(f) || f < 0.05 || f > 0.9)
    throw new UsageError(`--renew-at ${JSON.stringify(value)} must be a fraction between 0.05 and 0.9`, 'bootstrap');
  return f;
}

async function watch(identity: AgentIdentity, io: Io): Promise<number> {
  if (identity.notAfter <= Date.now()) {
    throw new CliError(`the identity in the out directory expired at ${new Date(identity.notAfter).toISOString()}`, 'bootstrap again with a new --token');
  }
  identity.on('rotated', (m: SvidMaterial) => io.err(`${new Date().toISOString()} renewed: ${describe(m)}`));
  identity.on('error', (err: Error) => io.err(`${new Date().toISOString()} renewal failed, retrying: ${err.message}`));
  identity.start();
  io.err(`watching: renews at about half of each certificate's lifetime; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      identity.stop();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
