import { parseCommandArgs } from '../args.js';
import { loadSettings } from '../settings.js';
import type { GatewayLog } from '../../control/gateway.js';
import { formatHostPort, parseHostPort } from '../../control/listen.js';
import { startTollgate } from '../../gateway/tollgate.js';
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
  // validates the file once up front (and resolves the data dir); startTollgate re-reads it with saved settings
  const { config, dataDir } = loadSettings(values);
  const log = terminalLog(io);
  const tg = await startTollgate({ configPath: values.config, config, dataDir, log });

  const addr = (listen: string, port: number) => formatHostPort(parseHostPort(listen).host, port);
  const live = tg.config();
  const control = addr(live.listen.control, tg.ports.control);
  const metrics = addr(live.listen.metrics, tg.ports.metrics);
  const fp = tg.gateway.authority.rootFingerprint();
  const td = tg.gateway.authority.trustDomain;
  const dd = values['data-dir'] ? ` --data-dir ${values['data-dir']}` : '';
  io.out(`Tollgate is running (trust domain ${td}, data dir ${dataDir})`);
  io.out(`  proxy    https://${addr(live.listen.proxy, tg.ports.proxy)}/a2a/<agent>   mTLS, ${Object.keys(live.agents).length} agents registered`);
  io.out(`  control  ${control}   gRPC: identity + admin API`);
  io.out(`  metrics  http://${metrics}/metrics   call graph: http://${metrics}/ui`);
  io.out(`  root     ${fp}`);
  io.out('Next:');
  io.out(`  TOKEN=$(npx tollgate token create --spiffe-id spiffe://${td}/agent/researcher${dd})`);
  io.out(`  npx tollgate bootstrap --server ${control} --token "$TOKEN" --fingerprint ${fp} --out ./researcher-id`);
  io.out('  npm run demo            # the whole story with real A2A agents, in its own sandbox');

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.err(`tollgate: ${signal} again, exiting now`);
        process.exit(1);
      }
      stopping = true;
      io.err(`tollgate: ${signal} received, shutting down (up to ${live.timeouts.shutdown} ms for in-flight calls)`);
      tg.close().then(resolve, (err: unknown) => {
        io.err(`tollgate: error while shutting down: ${(err as Error).message}`);
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // SIGHUP: re-read the config file; a bad one is refused and the running config stays in force
    process.on('SIGHUP', () => {
      try {
        tg.reload();
        io.err('tollgate: SIGHUP: config reloaded');
      } catch (err) {
        io.err(`tollgate: SIGHUP: config NOT reloaded, the running config stays in force: ${(err as Error).message}`);
      }
    });
  });
  io.err('tollgate: stopped');
  return 0;
};
