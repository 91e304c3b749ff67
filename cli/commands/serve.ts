import { parseCommandArgs } from '../args.js';
import { loadSettings } from '../settings.js';
import { startGateway, type GatewayLog } from '../../control/gateway.js';
import { formatHostPort, parseHostPort } from '../../control/listen.js';
import { SERVE_HELP } from '../help.js';
import type { Command, Io } from '../io.js';

/** Readable one-line log for people at a terminal; `pino` can replace it (same method shapes). */
export function terminalLog(io: Io): GatewayLog {
  const line = (level: string, obj: object, msg: string) => {
    const { err, ...rest } = obj as { err?: unknown };
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const why = err instanceof Error ? ` (${err.message})` : '';
    io.err(`${new Date().toISOString()} ${level} ${msg}${why}${fields.length ? ` ${fields.join(' ')}` : ''}`);
  };
  return {
    info: (o, m) => line('info', o, m),
    warn: (o, m) => line('warn', o, m),
    error: (o, m) => line('error', o, m),
  };
}

export const serve: Command = async (argv, io) => {
  const { values } = parseCommandArgs('serve', argv, {
    config: { type: 'string' },
    'data-dir': { type: 'string' },
  });
  if (values.help) {
    io.out(SERVE_HELP);
    return 0;
  }
  const { config, dataDir } = loadSettings(values);
  const gateway = await startGateway(config, { dataDir, log: terminalLog(io) });

  const controlAddr = formatHostPort(parseHostPort(config.listen.control).host, gateway.control.port);
  const creds = gateway.credentials();
  const fp = gateway.authority.rootFingerprint();
  io.out(`tollgate: trust domain ${gateway.authority.trustDomain}, data dir ${dataDir}`);
  io.out(`tollgate: root fingerprint ${fp}`);
  io.out(`tollgate: identity API (gRPC over TLS) listening on ${controlAddr}`);
  io.out(`tollgate: gateway SVID ${creds.spiffeId} for ${config.serverNames.join(', ')}, valid until ${new Date(creds.notAfter).toISOString()}`);
  io.out(`next: tollgate token create --spiffe-id spiffe://${gateway.authority.trustDomain}/agent/NAME --data-dir ${dataDir}`);
  io.out(`      tollgate bootstrap --server ${controlAddr} --token <token> --fingerprint ${fp} --out ./identity`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.err(`tollgate: ${signal} again, exiting now`);
        process.exit(1);
      }
      stopping = true;
      io.err(`tollgate: ${signal} received, shutting down (up to ${config.timeouts.shutdown} ms for in-flight calls)`);
      gateway.close().then(resolve, (err: unknown) => {
        io.err(`tollgate: error while shutting down: ${(err as Error).message}`);
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.err('tollgate: stopped');
  return 0;
};
