/**
 * `tollgate audit verify [--bundle FILE | --data-dir DIR] [--trust-domain TD] [--json] FILE…`: checks audit
 * files offline (proxy/audit-verify.ts): the hash chain line by line, the checkpoints' signatures against
 * the trust bundle. Exit 0 when nothing was changed, 1 naming the first line that was (per file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pemBlocks } from '../../certs/pem.js';
import { verifyAuditFiles, type AuditFileReport } from '../../proxy/audit-verify.js';
import { CliError, UsageError } from '../errors.js';
import { AUDIT_VERIFY_HELP } from '../help.js';
import type { Command, Io } from '../io.js';
import { DEFAULT_DATA_DIR } from '../settings.js';

export const auditVerify: Command = (argv, io) => Promise.resolve(run(argv, io));

function run(argv: string[], io: Io): number {
  let values: { bundle?: string; 'data-dir'?: string; 'trust-domain'?: string; json?: boolean; help?: boolean };
  let files: string[];
  try {
    const parsed = parseArgs({
      args: argv,
      options: {
        bundle: { type: 'string' },
        'data-dir': { type: 'string' },
        'trust-domain': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
    values = parsed.values;
    files = parsed.positionals;
  } catch (e) {
    throw new UsageError((e as Error).message.split('. ')[0], 'audit verify');
  }
  if (values.help) {
    io.out(AUDIT_VERIFY_HELP);
    return 0;
  }
  if (files.length === 0) throw new UsageError('name at least one audit file', 'audit verify');
  const bundlePath = values.bundle ?? path.join(values['data-dir'] ?? DEFAULT_DATA_DIR, 'bundle.pem');
  let bundle: Buffer[];
  try {
    bundle = pemBlocks(fs.readFileSync(bundlePath, 'utf8'));
  } catch (e) {
    throw new CliError(
      `cannot read the trust bundle ${bundlePath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      'pass --bundle with the CA root (bundle.pem in the data dir)',
    );
  }
  if (bundle.length === 0) throw new CliError(`${bundlePath} holds no certificate`, 'pass --bundle with the CA root (bundle.pem in the data dir)');
  const inputs = files.map((name) => {
    try {
      return { name, data: fs.readFileSync(name) };
    } catch (e) {
      throw new CliError(`cannot read ${name} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  });
  const report = verifyAuditFiles(inputs, { bundle, trustDomain: values['trust-domain'] });
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else for (const f of report.files) io.out(describe(f));
  return report.ok ? 0 : 1;
}

function describe(f: AuditFileReport): string {
  const signed = f.checkpoints === 0 ? 'no checkpoint' : `${f.checkpoints} checkpoint(s) signed by ${f.signers.join(', ')} (${f.certificates} certificate(s))`;
  const head = `${f.file}: ${f.lines} line(s), ${signed}${f.follows ? `, continues ${f.follows}` : ''}`;
  const verdict = f.problem ? `  TAMPERED at line ${f.problem.line} (${f.problem.kind}): ${f.problem.message}` : '  OK: chain intact, checkpoints verified';
  return [head, verdict, ...(f.problem ? [] : f.notes.map((n) => `  note: ${n}`))].join('\n');
}
