/**
 * The hot path's own Redis client (governance/fleet/resp.ts) against real redis-server processes: replies
 * read in place whatever the chunking, scripts by SHA with NOSCRIPT reloaded, commands of one turn answered
 * in order, commandTimeout while the server hangs (and replies still lined up after it), losing the server
 * (commands fail at once) and reconnecting by itself, AUTH and SELECT.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RespConnection, RespScript, bulk, encodeCommand, type Reply } from '../../governance/fleet/resp.js';
import { ReplyReader, RespError } from '../../governance/fleet/resp-reply.js';
import { freePort } from '../fakes/wait.js';
import { spawnRedisServer, testRedis, TEST_REDIS_URL } from '../redis.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const main = new URL(TEST_REDIS_URL);
const mainOpts = { host: main.hostname, port: Number(main.port || 6379) };

function conn(o: ConstructorParameters<typeof RespConnection>[0]): RespConnection {
  const c = new RespConnection(o);
  cleanup.push(() => c.close());
  return c;
}

/** a redis-server of the test's own (it is stopped, killed and restarted) */
async function privateRedis(port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = await spawnRedisServer(port, extra);
  cleanup.push(() => kill(child));
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** The raw bytes Redis sends for `commands` (written at once), read from a plain socket until `expect` bytes arrived. */
async function rawReplies(commands: string[][], until: (b: Buffer) => boolean): Promise<Buffer> {
  const s = net.connect(mainOpts);
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      if (until(Buffer.concat(chunks))) resolve();
    });
    s.write(commands.map(encodeCommand).join(''));
  });
  s.destroy();
  return Buffer.concat(chunks);
}

describe('ReplyReader', () => {
  it('reads every reply type from real Redis bytes alike, whole or split at every byte', async () => {
    const t = testRedis();
    cleanup.push(() => t.cleanup());
    const k = `${t.prefix}r`;
    const commands = [
      ['SET', k, 'héllo\r\nwörld'], // +OK; a bulk with CR LF and multi-byte characters inside
      ['GET', k],
      ['GET', `${k}:missing`], // null bulk
      ['INCRBY', `${k}:n`, '-42'], // negative integer
      ['RPUSH', `${k}:l`, 'a', '', 'c'],
      ['LRANGE', `${k}:l`, '0', '-1'], // array with an empty bulk
      ['EVAL', "return {1, 'two', {3, false}, redis.error_reply('inner')}", '0'], // nested array, a nil, an error inside
      ['NOSUCHCOMMAND'], // error
      ['BLPOP', `${k}:none`, '0.01'], // null array
      ['PING'],
    ];
    const want: Reply[] = [
      'OK',
      'héllo\r\nwörld',
      null,
      -42,
      3,
      ['a', '', 'c'],
      [1, 'two', [3, null], new RespError('ERR inner')],
      expect.any(RespError) as RespError, // its wording is the server version's
      null,
      'PONG',
    ];
    const raw = await rawReplies(commands, (b) => b.toString('latin1').endsWith('+PONG\r\n'));
    const read = (chunks: Buffer[]) => {
      const r = new ReplyReader();
      const out: Reply[] = [];
      for (const c of chunks) r.feed(c, (v) => out.push(v));
      return out;
    };
    const whole = read([raw]);
    expect(whole).toEqual(want);
    expect((whole[7] as RespError).message).toMatch(/^ERR unknown command/);
    for (let i = 1; i < raw.length; i++) expect(read([raw.subarray(0, i), raw.subarray(i)])).toEqual(want);
    expect(read([...raw].map((b) => Buffer.from([b])))).toEqual(want);
  });
});

describe('RespConnection (real Redis)', () => {
  it('calls a script by SHA; NOSCRIPT (never loaded, or flushed) is answered by EVAL without the caller seeing it', async () => {
    const port = await freePort();
    await privateRedis(port);
    const c = conn({ port, commandTimeout: 2000 });
    await c.whenReady();
    const script = new RespScript(`return {KEYS[1], ARGV[1], ${Date.now()}}`);
    const call = (v: string) => c.evalsha(script, 3, bulk('1') + bulk('k') + bulk(v));
    // never loaded: the first call is EVALSHA -> NOSCRIPT -> EVAL
    expect(((await call('a')) as unknown[]).slice(0, 2)).toEqual(['k', 'a']);
    expect(await c.command(['SCRIPT', 'EXISTS', script.sha])).toEqual([1]);
    await c.command(['SCRIPT', 'FLUSH']);
    expect(await c.command(['SCRIPT', 'EXISTS', script.sha])).toEqual([0]);
    const again = await Promise.all(['b', 'c', 'd'].map(call));
    expect(again.map((r) => (r as unknown[])[1])).toEqual(['b', 'c', 'd']);
    // a script error is the caller's
    await expect(c.evalsha(new RespScript("return redis.error_reply('no')"), 1, bulk('0'))).rejects.toThrow('no');
  });

  it('answers 500 commands issued in one turn in order, and the next turn too', async () => {
    const t = testRedis();
    cleanup.push(() => t.cleanup());
    const c = conn({ ...mainOpts, commandTimeout: 2000 });
    await c.whenReady();
    const k = `${t.prefix}n`;
    const first = await Promise.all(Array.from({ length: 500 }, () => c.command(['INCR', k])));
    expect(first).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    const second = await Promise.all([c.command(['GET', k]), c.command(['INCRBY', k, '10']), c.command(['PING'])]);
    expect(second).toEqual(['500', 510, 'PONG']);
  });

  it('close() still sends what the turn queued (a last batch of releases or graph events), then stops', async () => {
    const t = testRedis();
    cleanup.push(() => t.cleanup());
    const c = new RespConnection({ ...mainOpts, commandTimeout: 2000 });
    await c.whenReady();
    let hooked = 0;
    c.onFlush(() => {
      if (hooked++ === 0) void c.command(['SET', `${t.prefix}from-hook`, '1']).catch(() => undefined);
    });
    void c.command(['SET', `${t.prefix}queued`, '1']).catch(() => undefined);
    c.close();
    await expect(c.command(['PING'])).rejects.toThrow(/closed/);
    const check = t.client();
    const deadline = Date.now() + 2000;
    while ((await check.exists(`${t.prefix}queued`, `${t.prefix}from-hook`)) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await check.exists(`${t.prefix}queued`, `${t.prefix}from-hook`)).toBe(2);
  });

  it('rejects within commandTimeout while the server hangs, and the late replies do not answer later commands', async () => {
    const port = await freePort();
    const server = await privateRedis(port);
    const c = conn({ port, commandTimeout: 200 });
    await c.whenReady();
    await c.command(['SET', 'x', 'before']);
    server.kill('SIGSTOP');
    const started = performance.now();
    const hung = await Promise.allSettled([c.command(['GET', 'x']), c.command(['SET', 'x', 'during']), c.command(['INCR', 'n'])]);
    const took = performance.now() - started;
    expect(hung.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((hung[0] as PromiseRejectedResult).reason)).toContain('timed out');
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(200 + 300);
    server.kill('SIGCONT');
    // the three late replies are read and dropped: each next command gets its own answer
    expect(await c.command(['ECHO', 'mine'])).toBe('mine');
    expect(await c.command(['GET', 'x'])).toBe('during');
    expect(await c.command(['GET', 'n'])).toBe('1');
  });

  it('fails commands at once while the server is gone and reconnects by itself', async () => {
    const port = await freePort();
    const server = await privateRedis(port);
    const c = conn({ port, commandTimeout: 1000, retryStrategy: () => 50 });
    await c.whenReady();
    const states: boolean[] = [];
    c.onState((up) => states.push(up));
    await kill(server);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.ready).toBe(false);
    const at = performance.now();
    await expect(c.command(['PING'])).rejects.toThrow(/not connected/);
    expect(performance.now() - at).toBeLessThan(50);
    await privateRedis(port);
    const deadline = Date.now() + 5000;
    while (!c.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await c.command(['PING'])).toBe('PONG');
    expect(states[0]).toBe(false);
    expect(states.at(-1)).toBe(true);
  });

  it('authenticates and selects the database from the options; a wrong password never becomes ready', async () => {
    const port = await freePort();
    await privateRedis(port, ['--requirepass', 's3cret']);
    const c = conn({ port, password: 's3cret', db: 3, commandTimeout: 1000 });
    await c.whenReady();
    await c.command(['SET', 'where', 'db3']);
    const check = new Redis({ port, password: 's3cret', db: 3, lazyConnect: true });
    cleanup.push(() => check.disconnect());
    await check.connect();
    expect(await check.get('where')).toBe('db3');
    const wrong = conn({ port, password: 'nope', commandTimeout: 1000, retryStrategy: () => null });
    await expect(wrong.command(['PING'])).rejects.toThrow();
    expect(wrong.ready).toBe(false);
  });
});
