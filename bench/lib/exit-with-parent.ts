/**
 * A benchmark child exits when the bench that started it is gone (killed, or its output pipe closed):
 * Linux hands an orphan to init, which changes process.ppid. Without it, an interrupted bench left its
 * gateways, proxies and upstreams running, loading the machine that later measurements ran on.
 * Checked once a second, unref'd: it never keeps a child alive and costs nothing measurable.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
