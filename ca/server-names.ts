/**
 * The names a TLS client dials the gateway by, split into dNSName and iPAddress SANs so ordinary clients
 * (hostname verification) accept the gateway's certificate. IP literals must go in iPAddress, never in
 * dNSName: clients match an IP host only against iPAddress entries.
 */
import { ipFamily } from '../certs/ip.js';
import { CaError } from './api.js';

export interface ServerNameSans {
  dns: string[];
  ips: Buffer[];
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function ipv4Bytes(s: string): Buffer {
  return Buffer.from(s.split('.').map((p) => Number(p)));
}

function ipv6Bytes(s: string): Buffer {
  let text = s;
  const tail: number[] = [];
  // an embedded dotted IPv4 tail (::ffff:1.2.3.4) stands for the last two groups
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[1]);
    tail.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
    text = text.slice(0, -v4[1].length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.split('::');
  const parse = (part: string | undefined) =>
    part
      ? part
          .split(':')
          .filter((g) => g.length > 0)
          .map((g) => parseInt(g, 16))
      : [];
  const hi = parse(head);
  const lo = [...parse(rest), ...tail];
  const groups = rest === undefined ? [...hi, ...tail] : [...hi, ...new Array<number>(8 - hi.length - lo.length).fill(0), ...lo];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** Validate and split server names. Throws CaError('invalid_argument') naming the first bad one. */
export function serverNameSans(serverNames: readonly string[]): ServerNameSans {
  const dns: string[] = [];
  const ips: Buffer[] = [];
  for (const raw of serverNames) {
    if (typeof raw !== 'string' || raw.trim() === '') throw new CaError('invalid_argument', 'a server name is empty');
    const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
    const family = ipFamily(host);
    if (family === 4) ips.push(ipv4Bytes(host));
    else if (family === 6) {
      if (host.includes('%')) throw new CaError('invalid_argument', `server name ${JSON.stringify(raw)}: an IPv6 zone id cannot go in a certificate`);
      ips.push(ipv6Bytes(host));
    } else {
      const name = host.toLowerCase().replace(/\.$/, '');
      const labels = name.split('.');
      const ok = name.length <= 253 && labels.every((l, i) => LABEL.test(l) || (i === 0 && l === '*' && labels.length > 2));
      if (!ok) {
        throw new CaError('invalid_argument', `server name ${JSON.stringify(raw)} is neither a DNS name (letters, digits, '-', dots) nor an IP address`);
      }
      dns.push(name);
    }
  }
  return { dns: [...new Set(dns)], ips: ips.filter((b, i) => ips.findIndex((o) => o.equals(b)) === i) };
}
