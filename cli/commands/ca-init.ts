import { parseCommandArgs } from '../args.js';
import { loadSettings } from '../settings.js';
import { openCa } from '../open-ca.js';
import { CA_INIT_HELP } from '../help.js';
import type { Command } from '../io.js';

export const caInit: Command = async (argv, io) => {
  const { values } = parseCommandArgs('ca init', argv, {
    'data-dir': { type: 'string' },
    store: { type: 'string' },
    'trust-domain': { type: 'string' },
    config: { type: 'string' },
    'recreate-store': { type: 'boolean' },
  });
  if (values.help) {
    io.out(CA_INIT_HELP);
    return 0;
  }
  const { config, dataDir } = loadSettings(values);
  const ca = await openCa(config, dataDir, { recreateStore: values['recreate-store'] });
  try {
    io.err(`CA for trust domain ${ca.trustDomain} in ${dataDir}`);
    io.out(ca.rootFingerprint());
  } finally {
    await ca.close();
  }
  return 0;
};
