/**
 * The demo's output: short lines, one per thing that happened, written as it happens. Every agent in the
 * demo narrates through the same Narrator, so the lines come out in the order the calls really occur.
 *
 *   ▶ a call starts      ✓ it succeeded      ✗ the gateway refused it      ⇣ a streamed chunk arrived
 */
export type Write = (text: string) => void;

export const MARK = { call: '▶', ok: '✓', refused: '✗', chunk: '⇣', note: '·', fault: '↯' } as const;

/** Shorten free text for one line of output. */
export function clip(text: string, max = 72): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export class Narrator {
  constructor(
    private readonly write: Write = (t) => process.stdout.write(t),
    private readonly now: () => number = Date.now,
  ) {}

  line(text = ''): void {
    this.write(`${text}\n`);
  }

  /** "1. Title" with a blank line before it */
  step(n: number | string, title: string): void {
    this.line();
    this.line(`${n}. ${title}`);
  }

  /** ▶ from -> to: Method 'text' */
  call(from: string, to: string, method: string, text?: string): void {
    this.line(`  ${MARK.call} ${from} -> ${to}: ${method}${text === undefined ? '' : ` '${clip(text)}'`}`);
  }

  ok(text: string): void {
    this.line(`  ${MARK.ok} ${text}`);
  }

  refused(text: string): void {
    this.line(`  ${MARK.refused} ${text}`);
  }

  chunk(text: string): void {
    this.line(`  ${MARK.chunk} ${text}`);
  }

  note(text: string): void {
    this.line(`  ${MARK.note} ${text}`);
  }

  fault(text: string): void {
    this.line(`  ${MARK.fault} ${text}`);
  }

  /** "  label… ok (0.8 s)": for the slow setup steps. The label is written first, so a hang shows where. */
  async progress<T>(label: string, fn: () => Promise<T>, done: (v: T) => string = () => 'ok'): Promise<T> {
    const t0 = this.now();
    this.write(`  ${label}… `);
    try {
      const v = await fn();
      this.write(`${done(v)} (${seconds(this.now() - t0)})\n`);
      return v;
    } catch (e) {
      this.write(`failed (${seconds(this.now() - t0)})\n`);
      throw e;
    }
  }
}
