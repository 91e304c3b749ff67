/**
 * `tollgate policy explain --config FILE --from ID --to AGENT [--method M] [--chain a,b,…] [--shadow] [--json]`:
 * would the gateway allow this call, and which rule or limit decides it (gateway/policy-explain.ts), read
 * offline from a config file with the loader `tollgate serve` uses. `tollgate ctl policy explain` asks a
 * running gateway the same question about its running config (admin sections included).
 * Exit status: 0 allowed, 3 denied, 1 error (e.g. the config file is invalid), 2 usage.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../config/load.js';
import { parseSpiffeId } from '../../certs/spiffe-id.js';
import { explainCall, renderExplanation } from '../../gateway/policy-explain.js';
import { CliError, UsageError } from '../errors.js';
import { POLICY_EXPLAIN_HELP } from '../help.js';
import type { Command, Io } from '../io.js';

/** Exit status of a denied call (0 = allowed; 1 and 2 stay errors and usage errors, so a script can tell them apart). */
export const EXIT_DENIED = 3;

export const policyExplain: Command = (argv, io) => Promise.resolve(run(argv, io));

/** `--chain a,b` (repeatable): SPIFFE IDs, initiator first, in canonical form. */
export function chainArg(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => parseSpiffeId(v).uri);
}

function run(argv: string[], io: Io): number {
  let values: { config?: string; from?: string; to?: string; method?: string; chain?: string[]; shadow?: boolean; json?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        method: { type: 'string' },
        chain: { type: 'string', multiple: true },
        shadow: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('. ')[0], 'policy explain');
  }
  if (values.help) {
    io.out(POLICY_EXPLAIN_HELP);
    return 0;
  }
  if (!values.config) throw new UsageError('--config FILE is required: the config file to explain', 'policy explain');
  if (!values.from) throw new UsageError('--from is required: the caller SPIFFE ID, e.g. spiffe://tollgate.local/agent/researcher', 'policy explain');
  if (!values.to) throw new UsageError('--to is required: the callee agent name, e.g. writer', 'policy explain');
  let from: string;
  let chain: string[];
  try {
    from = parseSpiffeId(values.from).uri;
    chain = chainArg(values.chain ?? []);
  } catch (e) {
    throw new UsageError((e as Error).message, 'policy explain');
  }
  const config = loadConfigFile(values.config);
  if (values.shadow && config.shadowPolicy === undefined) throw new CliError(`${values.config} has no shadowPolicy to explain`, 'drop --shadow');
  const e = explainCall(values.shadow ? { ...config, policy: config.shadowPolicy! } : config, { from, to: values.to, method: values.method, chain });
  io.out(values.json ? JSON.stringify(e, null, 2) : renderExplanation(e).trimEnd());
  return e.allowed ? 0 : EXIT_DENIED;
}
