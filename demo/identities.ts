/**
 * Enrolling the demo's identities the way an operator and an agent would: `tollgate token create` (CLI,
 * operator side) prints a single-use join token; the agent redeems it with agent-bootstrap's bootstrap(),
 * pinning the root fingerprint, and keeps the identity renewed with AgentIdentity.
 */
import path from 'node:path';
import { AgentIdentity, bootstrap } from '../agent-bootstrap/index.js';
import { runCli } from './cli.js';
import { DemoError } from './errors.js';

export interface Enrollee {
  name: string;
  spiffeId: string;
}

/** Run `fn` over `items`, at most `limit` at a time (each token is a CLI process: 2 cores, keep it small). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** One join token per identity, from the CA in `dataDir` (works whether or not serve is running). */
export async function createTokens(who: readonly Enrollee[], dataDir: string, configPath: string): Promise<Map<string, string>> {
  const tokens = await mapLimit(who, 3, async (e) => {
    const { stdout } = await runCli(['token', 'create', '--spiffe-id', e.spiffeId, '--data-dir', dataDir, '--config', configPath]);
    const token = stdout.trim().split('\n').pop() ?? '';
    if (!token) throw new DemoError('enroll', `\`tollgate token create\` printed no token for ${e.spiffeId}`);
    return [e.name, token] as const;
  });
  return new Map(tokens);
}

/** Redeem a token: key generated here, root pinned by fingerprint, files in `<baseDir>/<name>` (key 0600). */
export async function bootstrapIdentity(e: Enrollee, token: string, opts: { server: string; fingerprint: string; baseDir: string }): Promise<AgentIdentity> {
  const dir = path.join(opts.baseDir, e.name);
  try {
    await bootstrap({ server: opts.server, token, fingerprint: opts.fingerprint, outDir: dir });
    const identity = await AgentIdentity.fromDir(dir, { server: opts.server });
    if (identity.spiffeId !== e.spiffeId) throw new Error(`got ${identity.spiffeId}, expected ${e.spiffeId}`);
    return identity.start();
  } catch (err) {
    throw new DemoError('enroll', `could not bootstrap ${e.spiffeId}: ${(err as Error).message}`, { cause: err });
  }
}
