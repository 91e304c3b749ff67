/**
 * Preloaded (`node --expose-gc --import <this>`) into a process whose memory the bench measures: on the
 * parent's IPC message { measure: idleMs } it stays idle for idleMs, collects garbage, and answers with
 * process.memoryUsage(). The same probe goes into `tollgate serve` and into the dependency-floor child, so
 * both figures are taken the same way. Nothing else is loaded: the probe must not weigh on what it measures.
 *
 * Why wait: a forced gc() frees objects but leaves V8's new space at the size start-up grew it to; V8's
 * memory reducer shrinks it once the process has been idle for several seconds (measured here: a fresh
 * `tollgate serve` goes from ~94 MB to ~78 MB RSS 5-10 s after start, the floor process from ~74 to ~65 MB).
 * An idle gateway is in that state, so that is the state measured.
 *
 * Why wait again after gc(): when the reducer has not run yet, the forced GC frees what start-up left
 * behind, but V8 unmaps the emptied pages from a background task; RSS read at once still counted them
 * (measured: 90.6 MB read right after gc(), 77.4 MB 100 ms later and still 77.4 MB 1.5 s later, in about
 * one run in three). 500 ms later is the settled figure either way.
 */
const gc = (globalThis as { gc?: () => void }).gc;

/** after the last gc(): V8 returns the pages that GC emptied to the OS from a background task, not at once */
const UNMAP_MS = 500;

async function settle(idleMs: number): Promise<NodeJS.MemoryUsage> {
  await new Promise((r) => setTimeout(r, idleMs));
  gc?.();
  await new Promise((r) => setTimeout(r, 50));
  gc?.();
  await new Promise((r) => setTimeout(r, UNMAP_MS));
  return process.memoryUsage();
}

if (process.send) {
  process.on('message', (m: { measure?: number }) => {
    if (typeof m?.measure === 'number') void settle(m.measure).then((usage) => process.send?.({ usage, gc: gc !== undefined }));
  });
  // the IPC channel must not keep a finished process alive
  process.channel?.unref();
}
