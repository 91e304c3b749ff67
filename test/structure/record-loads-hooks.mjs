/** Hooks thread of record-loads.mjs: reports every resolved URL, changes nothing. */
let port;

export function initialize(data) {
  port = data.port;
  port.on('message', (m) => {
    if (m === 'flush') port.postMessage('flushed');
  });
  port.unref();
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}
