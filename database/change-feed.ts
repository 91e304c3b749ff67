/**
 * What a fleet's processes must see at once when another one writes it: revocations, settings and the
 * delegation keys. Migration 2 puts a statement trigger on each of those tables that sends
 * `NOTIFY tollgate_changes, '<table>'` (delivered when the writing transaction commits, nothing if it rolls
 * back); each process holds one LISTEN connection and runs what it registered for that table.
 *
 * The readers keep their polls as the backstop: a notification is lost while the listening connection is
 * down, so on every (re)connect each registered reader runs once, as if its table had changed. The
 * connection is retried with a backoff (RETRY_MS up to MAX_RETRY_MS) for as long as anyone listens.
 */
import pg from 'pg';

export const CHANGES_CHANNEL = 'tollgate_changes';

/** The tables whose changes are announced (database/migrations.ts, version 2). */
export type WatchedTable = 'revocation_log' | 'settings' | 'delegation_keys';

const RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

export interface ChangeFeed {
  /** Run `fn` after each committed change to `table`, and after the feed (re)connects. Returns its removal. */
  on(table: WatchedTable, fn: () => void): () => void;
  close(): Promise<void>;
}

export function startChangeFeed(o: {
  connectionString: string;
  applicationName: string;
  /** the listening connection failed (once until it is back), or a reader threw */
  onError?: (err: Error) => void;
}): ChangeFeed {
  const readers = new Map<string, Set<() => void>>();
  let client: pg.Client | undefined;
  let started = false;
  let closed = false;
  let retryMs = RETRY_MS;
  let retry: NodeJS.Timeout | undefined;
  /** a failure was reported since the last connect (a database away for minutes is reported once) */
  let reported = false;

  const run = (fns: Iterable<() => void>) => {
    for (const fn of fns) {
      try {
        fn();
      } catch (err) {
        o.onError?.(err as Error);
      }
    }
  };
  const everyone = () => run([...readers.values()].flatMap((s) => [...s]));

  const connect = (): void => {
    if (closed) return;
    // keep-alive: a connection cut without a reset (a partition) is noticed and replaced, not listened on for ever
    const c = new pg.Client({
      connectionString: o.connectionString,
      application_name: o.applicationName,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client = c;
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (err && !reported) {
        reported = true;
        o.onError?.(err);
      }
      c.removeAllListeners('notification');
      c.end().catch(() => undefined);
      if (client === c) client = undefined;
      if (closed) return;
      retry = setTimeout(connect, retryMs);
      retry.unref();
      retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    c.on('notification', (m) => {
      const fns = m.payload === undefined ? undefined : readers.get(m.payload);
      if (fns) run(fns);
    });
    c.connect()
      .then(() => c.query(`LISTEN ${CHANGES_CHANNEL}`))
      .then(() => {
        if (lost) return;
        retryMs = RETRY_MS;
        reported = false;
        // what changed while nobody listened is read now
        everyone();
      }, onLost);
  };

  return {
    on(table, fn) {
      let set = readers.get(table);
      if (!set) readers.set(table, (set = new Set()));
      set.add(fn);
      if (!started) {
        started = true;
        connect();
      }
      return () => void set.delete(fn);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
