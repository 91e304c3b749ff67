/**
 * `tollgate admin init`: the admin identity of a set-up on one machine, in one step. Issued by the local CA
 * (the data dir, or the fleet's store) without a join token on the wire, written where `tollgate ctl` looks by
 * default (<data-dir>/admin), and checked against the config's `admins:` list.
 */
import path from 'node:path';
import { parseCommandArgs } from '../args.js';
import { newKeyAndCsr } from '../../agent-bootstrap/keys.js';
import { writeIdentityFiles } from '../../agent-bootstrap/files.js';
import { parseWorkloadId } from '../../certs/spiffe-id.js';
import { CliError } from '../errors.js';
import { ADMIN_INIT_HELP } from '../help.js';
import { localAddress, withLocalCa } from '../local-ca.js';
import { DEFAULT_ADMIN_DIR, DEFAULT_CONTROL_SERVER } from '../defaults.js';
import { loadSettings } from '../settings.js';
import type { Command } from '../io.js';

export const adminInit: Command = async (argv, io) => {
  const { values } = parseCommandArgs('admin init', argv, {
    config: { type: 'string' },
    'data-dir': { type: 'string' },
    store: { type: 'string' },
    'spiffe-id': { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) {
    io.out(ADMIN_INIT_HELP);
    return 0;
  }
  let given;
  try {
    given = values['spiffe-id'] === undefined ? undefined : parseWorkloadId(values['spiffe-id']);
  } catch (e) {
    throw new CliError(`--spiffe-id: ${(e as Error).message}`, 'pass an ID like spiffe://tollgate.local/admin/NAME', 2);
  }
  // without a config, the CA's trust domain is the one the ID names (as `token create` does)
  const { config, dataDir } = loadSettings({ ...values, 'trust-domain': values.config ? undefined : given?.trustDomain });
  const id = given ?? parseWorkloadId(config.admins[0] ?? `spiffe://${config.trustDomain}/admin/ops`);
  if (id.trustDomain !== config.trustDomain)
    throw new CliError(`--spiffe-id ${id.uri} is not in the CA's trust domain ${config.trustDomain}`, `use spiffe://${config.trustDomain}/admin/NAME`, 2);
  const outDir = path.resolve(values.out ?? path.join(dataDir, 'admin'));

  const issued = await withLocalCa(config, dataDir, async (ca) => {
    const { token } = await ca.createJoinToken(id.uri, 60_000);
    const { keyPem, csrDer } = await newKeyAndCsr(); // the key is made here and never stored elsewhere
    const svid = await ca.bootstrap(token, csrDer);
    await writeIdentityFiles(outDir, { keyPem, certChainPem: svid.certChainPem, bundlePem: svid.bundlePem });
    return svid;
  });

  io.out(id.uri);
  io.err(`wrote ${outDir}/{key,cert,bundle}.pem for ${id.uri}, valid until ${new Date(issued.notAfter).toISOString()}`);
  const certDir = outDir === path.resolve(DEFAULT_ADMIN_DIR) ? '' : ` --cert-dir ${outDir}`;
  const listen = localAddress(config.listen.control);
  const control = listen.endsWith(':0') ? 'HOST:PORT' : listen;
  const server = control === DEFAULT_CONTROL_SERVER ? '' : ` --server ${control}`;
  if (config.admins.includes(id.uri)) {
    io.err(`${id.uri} is listed in admins:${values.config ? ` in ${values.config}` : ''}. Try: tollgate ctl agents list${server}${certDir}`);
  } else {
    const where = values.config ? `admins: in ${values.config}` : 'admins: in the config `tollgate serve` runs with (pass it here as --config to check)';
    io.err(`note: ${id.uri} is not listed in ${where}: add it and reload the gateway (SIGHUP), or \`tollgate ctl\` will be refused`);
  }
  io.err(`it expires with the CA's svidTtl: run this again, or keep it renewed: tollgate bootstrap --watch --server ${control} --out ${outDir}`);
  return 0;
};
