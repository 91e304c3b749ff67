/**
 * Everything the demo starts registers how to undo it here; undo runs once, last-in first-out, whatever
 * ends the demo (success, failure, Ctrl-C). A step that fails to clean up does not stop the others.
 * Something registered after the undo began (a start that was still under way) is undone at once.
 */
export class Cleanup {
  private readonly steps: { what: string; fn: () => unknown }[] = [];
  private readonly lastResort: (() => void)[] = [];
  private running: Promise<string[]> | undefined;

  add(what: string, fn: () => unknown): void {
    if (this.running) {
      void Promise.resolve()
        .then(fn)
        .catch(() => undefined);
      return;
    }
    this.steps.push({ what, fn });
  }

  /**
   * A synchronous, idempotent undo for the process 'exit' handler: it runs even when run() did (a late
   * start may have recreated something), and it is all that runs when the process exits early.
   */
  addLastResort(fn: () => void): void {
    this.lastResort.push(fn);
  }

  runLastResort(): void {
    for (const fn of [...this.lastResort].reverse()) {
      try {
        fn();
      } catch {
        // best effort: the process is exiting
      }
    }
  }

  /** Returns what could not be cleaned up (one line each). */
  run(): Promise<string[]> {
    this.running ??= (async () => {
      const problems: string[] = [];
      for (const s of [...this.steps].reverse()) {
        try {
          await s.fn();
        } catch (e) {
          problems.push(`${s.what}: ${(e as Error).message}`);
        }
      }
      return problems;
    })();
    return this.running;
  }
}
