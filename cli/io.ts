/** Where commands write: injectable so tests can call commands in-process. */
export interface Io {
  /** results only (a token, a fingerprint): scripts read stdout */
  out(line: string): void;
  /** everything meant for a person */
  err(line: string): void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export type Command = (argv: string[], io: Io) => Promise<number | undefined>;
