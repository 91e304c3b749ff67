import { parseCommandArgs, requireString, durationOption } from '../args.js';
import { loadSettings } from '../settings.js';
import { openCa } from '../open-ca.js';
import { parseWorkloadId } from '../../certs/spiffe-id.js';
import { formatDuration } from '../../config/duration.js';
import { CliError } from '../errors.js';
import { assertCaExists } from '../local-ca.js';
import { TOKEN_CREATE_HELP } from '../help.js';
import type { Command } from '../io.js';

export const tokenCreate: Command = async (argv, io) => {
  const { values } = parseCommandArgs('token create', argv, {
    'spiffe-id': { type: 'string' },
    ttl: { type: 'string' },
    'data-dir': { type: 'string' },
    store: { type: 'string' },
    config: { type: 'string' },
    'recreate-store': { type: 'boolean' },
  });
  if (values.help) {
    io.out(TOKEN_CREATE_HELP);
    return 0;
  }
  const rawId = requireString('token create', values, 'spiffe-id');
  let id;
  try {
    id = parseWorkloadId(rawId);
  } catch (e) {
    throw new CliError(`--spiffe-id: ${(e as Error).message}`, 'pass an ID like spiffe://tollgate.local/agent/NAME', 2);
  }
  const ttlMs = durationOption('token create', 'ttl', values.ttl);
  const { config, dataDir } = loadSettings({ ...values, 'trust-domain': values.config ? undefined : id.trustDomain });
  if (id.trustDomain !== config.trustDomain) {
    throw new CliError(`--spiffe-id ${id.uri} is not in the CA's trust domain ${config.trustDomain}`, `use spiffe://${config.trustDomain}/...`, 2);
  }
  assertCaExists(dataDir);
  const ca = await openCa(config, dataDir, { recreateStore: values['recreate-store'] });
  try {
    const { token, expiresAt } = await ca.createJoinToken(id.uri, ttlMs ?? config.ca.tokenTtl);
    io.out(token);
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000)) * 1000;
    io.err(`join token for ${id.uri}, single use, expires ${new Date(expiresAt).toISOString()} (in ${formatDuration(left)})`);
    io.err(`next: tollgate bootstrap --server HOST:PORT --token <token> --fingerprint ${ca.rootFingerprint()} --out DIR`);
  } finally {
    await ca.close();
  }
  return 0;
};
