import { createHash } from 'node:crypto';

/** PEM <-> DER helpers (no I/O). */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

export function pemBlocks(pem: string, label = 'CERTIFICATE'): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(PEM_BLOCK)) {
    if (m[1] === label) out.push(Buffer.from(m[2].replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

export function derToPem(der: Uint8Array | ArrayBuffer, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** `sha256:<hex>` of a DER certificate: how a root is pinned (`--fingerprint`). */
export function fingerprint(der: Uint8Array): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/**
 * Parse `sha256:<64 hex>` (colons inside the hex and any letter case allowed, as openssl prints
 * `SHA256 Fingerprint=AB:CD:...`). Returns lowercase hex or null.
 */
export function parseFingerprint(input: string): string | null {
  if (typeof input !== 'string') return null;
  const m = /^sha256:([0-9a-fA-F:]+)$/i.exec(input.trim());
  if (!m) return null;
  const hex = m[1].replace(/:/g, '').toLowerCase();
  return hex.length === 64 ? hex : null;
}
