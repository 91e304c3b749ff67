/** HOST:PORT parsing shared by the listeners ("[::1]:0" for IPv6; port 0 picks a free port). */
export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(input: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(input.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid address ${JSON.stringify(input)}: expected HOST:PORT, e.g. 127.0.0.1:8444`);
  return { host: m[1] ?? m[2], port };
}

/** Format for display and for gRPC targets (brackets around IPv6). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
