import { watch } from 'node:fs';
import path from 'node:path';
import { DEFAULT_ADMIN_DIR, DEFAULT_CONTROL_SERVER } from '../defaults.js';
import { parseCommandArgs } from '../args.js';
import { CliError } from '../errors.js';
import { loadSettings } from '../settings.js';
import type { Logger } from 'pino';
import { formatHostPort, parseHostPort } from '../../control/listen.js';
import { startTollgate } from '../../gateway/tollgate.js';
import { isWorker, parseWorkers, reportReady, startPrimary, workersRefusal } from '../../gateway/cluster.js';
import { availableParallelism } from 'node:os';
import type { Command, Io } from '../io.js';
import { createLog, logSettings } from '../log.js';

export const serve: Command = async (argv, io) => {
  const { values } = parseCommandArgs('serve', argv, {
    config: { type: 'string' },
    'data-dir': { type: 'string' },
    store: { type: 'string' },
    'watch-config': { type: 'boolean' },
    'recreate-store': { type: 'boolean' },
    workers: { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
  });
  if (values.help) {
    io.out((await import('../help.js')).SERVE_HELP);
    return 0;
  }
  if (values['watch-config'] && !values.config) throw new CliError('--watch-config needs --config FILE', 'pass the config file to watch', 2);
  // validates the file once up front (and resolves the data dir); startTollgate re-reads it with saved settings
  const { config, dataDir } = loadSettings(values);
  const log = createLog(io, logSettings('serve', { level: values['log-level'], format: values['log-format'], tty: process.stderr.isTTY }));
  let workers: number;
  try {
    workers = parseWorkers(values.workers, availableParallelism());
  } catch (e) {
    throw new CliError((e as Error).message, 'pass --workers N, or --workers auto for one per core', 2);
  }
  if (workers > 1 && !isWorker()) {
    const why = workersRefusal(workers, config);
    if (why !== undefined) throw new CliError(why, 'see README "Running several replicas"; or run one worker per process', 2);
    return runPrimary(workers, io, log, dataDir, config.timeouts.shutdown);
  }
  const worker = isWorker();
  const tg = await startTollgate({
    clusterWorker: worker,
    configPath: values.config,
    config,
    dataDir,
    log,
    recreateStore: values['recreate-store'],
    store: config.store,
  });

  const printBanner = () => {
    const addr = (listen: string, port: number) => formatHostPort(parseHostPort(listen).host, port);
    const live = tg.config();
    const control = addr(live.listen.control, tg.ports.control);
    const metrics = addr(live.listen.metrics, tg.ports.metrics);
    const fp = tg.gateway.authority.rootFingerprint();
    const td = tg.gateway.authority.trustDomain;
    const dd = values['data-dir'] ? ` --data-dir ${values['data-dir']}` : '';
    const where = tg.store.kind === 'postgres' ? `, store ${tg.store.location}` : '';
    io.out(`Tollgate is running (trust domain ${td}, data dir ${dataDir}${where})`);
    io.out(`  proxy    https://${addr(live.listen.proxy, tg.ports.proxy)}/a2a/<agent>   mTLS, ${Object.keys(live.agents).length} agents registered`);
    io.out(`  control  ${control}   gRPC: identity + admin API`);
    io.out(`  metrics  http://${metrics}/metrics   call graph: http://${metrics}/ui`);
    io.out(`  root     ${fp}`);
    io.out('Next:');
    io.out(`  alias tollgate='node ${process.argv[1]}'`);
    // the token command must open the same store (the URL may hold a password: not printed)
    if (tg.store.kind === 'postgres' && !process.env.TOLLGATE_STORE)
      io.out('  export TOLLGATE_STORE=<the --store URL>   # token create reads the shared store');
    // an admin identity for `ctl`, and the ctl command that then works as printed (ctl's defaults: 127.0.0.1:8444, .tollgate/admin)
    const cfg = values.config ? ` --config ${values.config}` : '';
    if (live.admins.length === 0) io.out('  # tollgate ctl needs an admin: list one under admins: in the config, then run tollgate admin init');
    else {
      const ctlServer = control === DEFAULT_CONTROL_SERVER ? '' : ` --server ${control}`;
      const ctlCerts = path.resolve(dataDir, 'admin') === path.resolve(DEFAULT_ADMIN_DIR) ? '' : ` --cert-dir ${path.join(dataDir, 'admin')}`;
      io.out(`  tollgate admin init${cfg}${dd}   # writes an admin identity (${live.admins[0]}) for ctl`);
      io.out(`  tollgate ctl agents list${ctlServer}${ctlCerts}`);
    }
    const example = Object.keys(live.agents).find((n) => n === 'echo');
    if (example !== undefined && values.config) io.out(`  tollgate agent run --name ${example}${cfg}${dd}   # serves an example agent the gateway routes to`);
    io.out(`  TOKEN=$(tollgate token create --spiffe-id spiffe://${td}/agent/researcher${dd})`);
    io.out(`  tollgate bootstrap --server ${control} --token "$TOKEN" --fingerprint ${fp} --out ./researcher-id`);
    io.out('  npm run demo            # the whole story with real A2A agents, in its own sandbox');
  };

  // SIGHUP and (opt-in) a watch on the config file both re-read it; a bad file is refused, the running config stays
  const reload = (why: string) => {
    tg.reload().then(
      () => log.info({ trigger: why }, `${why}: config reloaded`),
      (err: unknown) => log.error({ trigger: why }, `${why}: config NOT reloaded, the running config stays in force: ${(err as Error).message}`),
    );
  };
  let watcher: ReturnType<typeof watch> | undefined;
  if (values['watch-config']) {
    let timer: NodeJS.Timeout | undefined;
    // editors write in several steps (truncate, write, rename): reload once things settle
    watcher = watch(values.config!, () => {
      clearTimeout(timer);
      timer = setTimeout(() => reload('config file changed'), 300);
    });
    log.info({ config: values.config }, `watching ${values.config} for changes`);
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // a worker hears SIGTERM from its primary and often from the service manager too (the whole group):
        // only the primary escalates (SIGKILL after the shutdown timeout)
        if (worker) return;
        log.warn({ signal }, `${signal} again, exiting now`);
        process.exit(1);
      }
      stopping = true;
      watcher?.close();
      log.info({ signal }, `${signal} received, shutting down (up to ${tg.config().timeouts.shutdown} ms for in-flight calls)`);
      tg.close().then(resolve, (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        resolve();
      });
    };
    // a worker stops when its primary says so (SIGTERM); a terminal's Ctrl-C reaches the primary too
    if (!worker) process.on('SIGINT', stop);
    else process.on('SIGINT', () => undefined);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', () => reload('SIGHUP'));
    // the banner last: whoever reads it may signal us at once, so the handlers must already be in place
    if (worker) {
      reportReady({ ports: tg.ports, fingerprint: tg.gateway.authority.rootFingerprint(), trustDomain: tg.gateway.authority.trustDomain });
    } else {
      printBanner();
    }
  });
  log.info({}, 'stopped');
  // a cluster worker's IPC channel to its primary keeps its event loop alive: let go of it, or the worker
  // never exits and the primary waits out the shutdown timeout and SIGKILLs it
  if (worker) process.disconnect?.();
  return 0;
};

/** The primary of `serve --workers N`: forks, replaces, forwards signals; the workers serve. */
async function runPrimary(workers: number, io: Io, log: Logger, dataDir: string, shutdownMs: number): Promise<number> {
  await new Promise<void>((resolve) => {
    let stopping = false;
    const primary = startPrimary({
      workers,
      log,
      onReady: (b) => {
        io.out(`Tollgate is running with ${workers} workers (trust domain ${b.trustDomain}, data dir ${dataDir})`);
        io.out(`  proxy    port ${b.ports.proxy}   control ${b.ports.control}   metrics ${b.ports.metrics} (/metrics: all workers)`);
        io.out(`  root     ${b.fingerprint}`);
      },
    });
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, `${signal} again, exiting now`);
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, `${signal} received, stopping ${workers} workers`);
      primary.stop(shutdownMs + 5000).then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', () => {
      log.info({ signal: 'SIGHUP' }, 'SIGHUP: reloading every worker');
      primary.reload();
    });
  });
  log.info({}, 'stopped');
  return 0;
}
