/**
 * Preloaded (`node --expose-gc --import <this>`) into a process whose memory the bench measures: on the
 * parent's IPC message 'measure' it collects garbage until RSS stops falling, then answers with
 * process.memoryUsage(). The same probe goes into `tollgate serve` and into the dependency-floor child, so
 * both figures are taken the same way. Nothing else is loaded: the probe must not weigh on what it measures.
 */
const gc = (globalThis as { gc?: () => void }).gc;

async function settle(): Promise<NodeJS.MemoryUsage> {
  let last = Infinity;
  // a few rounds: finalizers and freed pages show up one collection later
  for (let i = 0; i < 10; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
    const rss = process.memoryUsage.rss();
    if (last - rss < 64 * 1024 && i >= 2) break;
    last = rss;
  }
  return process.memoryUsage();
}

if (process.send) {
  process.on('message', (m) => {
    if (m === 'measure') void settle().then((usage) => process.send?.({ usage, gc: gc !== undefined }));
  });
  // the IPC channel must not keep a finished process alive
  process.channel?.unref();
}
