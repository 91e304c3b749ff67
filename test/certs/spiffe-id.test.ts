/**
 * SPIFFE ID rules (spiffe/spiffe standards/SPIFFE-ID.md): one table row per rule, each refusal checked for
 * its stable code and for a message that names the rule.
 */
import { describe, it, expect } from 'vitest';
import { CertError } from '../../certs/errors.js';
import {
  parseSpiffeId,
  parseWorkloadId,
  parseTrustDomain,
  canonicalSpiffeId,
  shortName,
  MAX_SPIFFE_ID_BYTES,
  MAX_TRUST_DOMAIN_BYTES,
} from '../../certs/spiffe-id.js';

function refusal(fn: () => unknown): CertError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CertError);
    return e as CertError;
  }
  throw new Error('expected a CertError, but parsing succeeded');
}

const longTd = (n: number) => 'a'.repeat(n);
/** An ID of exactly `n` bytes: scheme + short trust domain + one long path segment. */
const idOfBytes = (n: number) => {
  const head = 'spiffe://example.org/';
  return head + 'p'.repeat(n - head.length);
};

describe('parseSpiffeId: accepted IDs', () => {
  it.each([
    ['spiffe://example.org/agent/writer', 'example.org', '/agent/writer', 'spiffe://example.org/agent/writer'],
    // the path is case-sensitive and keeps its case
    ['spiffe://example.org/Agent/Writer', 'example.org', '/Agent/Writer', 'spiffe://example.org/Agent/Writer'],
    ['spiffe://example.org', 'example.org', '', 'spiffe://example.org'],
    ['spiffe://a-b_c.d0/x.y-z_0', 'a-b_c.d0', '/x.y-z_0', 'spiffe://a-b_c.d0/x.y-z_0'],
    // segments that contain dots but are not "." or ".." are fine
    ['spiffe://example.org/.path', 'example.org', '/.path', 'spiffe://example.org/.path'],
    ['spiffe://example.org/..path/...', 'example.org', '/..path/...', 'spiffe://example.org/..path/...'],
    ['spiffe://example.org/ABCxyz019._-', 'example.org', '/ABCxyz019._-', 'spiffe://example.org/ABCxyz019._-'],
  ])('%s', (input, trustDomain, path, uri) => {
    expect(parseSpiffeId(input)).toEqual({ trustDomain, path, uri });
  });

  it('accepts a trust domain of exactly 255 bytes and an ID of exactly 2048 bytes', () => {
    expect(parseSpiffeId(`spiffe://${longTd(MAX_TRUST_DOMAIN_BYTES)}/a`).trustDomain).toHaveLength(255);
    const id = idOfBytes(MAX_SPIFFE_ID_BYTES);
    expect(Buffer.byteLength(id)).toBe(2048);
    expect(parseSpiffeId(id).uri).toBe(id);
  });
});

describe('parseSpiffeId: refused IDs', () => {
  it.each([
    // scheme
    ['', /it is empty/],
    ['example.org/agent/a', /must start with spiffe:\/\//],
    ['//example.org/agent/a', /must start with spiffe:\/\//],
    ['spiffe:/example.org/agent/a', /must start with spiffe:\/\//],
    ['spiffe:example.org', /must start with spiffe:\/\//],
    ['https://example.org/agent/a', /the scheme must be "spiffe"/],
    ['spife://example.org/agent/a', /the scheme must be "spiffe"/],
    ['spiffe+x://example.org/agent/a', /the scheme must be "spiffe"/],
    ['://example.org/agent/a', /the scheme must be "spiffe"/],
    [' spiffe://example.org/agent/a', /the scheme must be "spiffe"/],
    // only the canonical form is an ID: an upper-case scheme or trust domain is refused, never folded
    // (go-spiffe and SPIRE refuse it too; folding would turn a peer's identity into another one)
    ['SPIFFE://example.org/agent/writer', /the scheme must be "spiffe" in lower case/],
    ['SpIfFe://example.org/a', /the scheme must be "spiffe" in lower case/],
    ['spiffe://EXAMPLE.Org/Agent/Writer', /the trust domain "EXAMPLE\.Org" has upper-case letters; a trust domain is lower case/],
    ['spiffe://example.orG/agent/a', /the trust domain "example\.orG" has upper-case letters/],
    // trust domain
    ['spiffe://', /the trust domain is missing/],
    ['spiffe:///agent/a', /the trust domain is missing/],
    ['spiffe://user@example.org/agent/a', /userinfo is not allowed in the trust domain/],
    ['spiffe://user:secret@example.org/agent/a', /userinfo is not allowed in the trust domain/],
    ['spiffe://example.org:8443/agent/a', /a port is not allowed in the trust domain/],
    ['spiffe://example.org:/agent/a', /a port is not allowed in the trust domain/],
    ['spiffe://exa%6Dple.org/agent/a', /percent-encoding is not allowed in the trust domain/],
    ['spiffe://exa mple.org/agent/a', /the trust domain has the character " "; only a-z, 0-9, '\.', '-' and '_' are allowed/],
    ['spiffe://example.org!/agent/a', /the trust domain has the character "!"/],
    ['spiffe://ex*ample.org/agent/a', /the trust domain has the character "\*"/],
    ['spiffe://exämple.org/agent/a', /the trust domain has the character "ä"/],
    // U+212A KELVIN SIGN lowercases to ASCII "k": must be refused, not normalised into "kexample.org"
    ['spiffe://\u212Aexample.org/agent/a', /the trust domain has the character "\u212A"/],
    [`spiffe://${longTd(MAX_TRUST_DOMAIN_BYTES + 1)}/a`, /the trust domain is longer than 255 bytes/],
    // path
    ['spiffe://example.org/', /the path must not end with "\/"/],
    ['spiffe://example.org/agent/a/', /the path must not end with "\/"/],
    ['spiffe://example.org//agent', /the path has an empty segment/],
    ['spiffe://example.org/agent//a', /the path has an empty segment/],
    ['spiffe://example.org/.', /the path must not contain a "\." segment/],
    ['spiffe://example.org/./agent', /the path must not contain a "\." segment/],
    ['spiffe://example.org/agent/.', /the path must not contain a "\." segment/],
    ['spiffe://example.org/..', /the path must not contain a "\.\." segment/],
    ['spiffe://example.org/agent/../admin', /the path must not contain a "\.\." segment/],
    ['spiffe://example.org/agent%2Fa', /percent-encoding is not allowed in the path/],
    ['spiffe://example.org/%41gent', /percent-encoding is not allowed in the path/],
    ['spiffe://example.org/agent a', /the path segment "agent a" has a character outside A-Z, a-z, 0-9, '\.', '-', '_'/],
    ['spiffe://example.org/pa:th', /the path segment "pa:th" has a character outside/],
    ['spiffe://example.org/pa@th', /the path segment "pa@th" has a character outside/],
    ['spiffe://example.org/a*b', /the path segment "a\*b" has a character outside/],
    ['spiffe://example.org/a+b', /the path segment "a\+b" has a character outside/],
    ['spiffe://example.org/a~b', /the path segment "a~b" has a character outside/],
    ['spiffe://example.org/caf\u00e9', /the path segment "caf\u00e9" has a character outside/],
    ['spiffe://example.org/a\nb', /has a character outside/],
    ['spiffe://example.org/agent, URI:spiffe://example.org/admin', /has a character outside/],
    // query and fragment
    ['spiffe://example.org/agent/a?x=1', /a query is not allowed/],
    ['spiffe://example.org?x=1', /a query is not allowed/],
    ['spiffe://example.org/agent/a?', /a query is not allowed/],
    ['spiffe://example.org/agent/a#frag', /a fragment is not allowed/],
    ['spiffe://example.org#frag', /a fragment is not allowed/],
    // total length
    [idOfBytes(MAX_SPIFFE_ID_BYTES + 1), /it is longer than 2048 bytes/],
  ])('%j', (input, rule) => {
    const e = refusal(() => parseSpiffeId(input));
    expect(e.code).toBe('spiffe_id_invalid');
    expect(e.message).toMatch(/^invalid SPIFFE ID "/);
    expect(e.message).toMatch(rule);
  });

  it('counts the length limit in UTF-8 bytes, not characters', () => {
    // 2048 characters but 2049 bytes: the length rule fires before any character rule.
    const id = idOfBytes(MAX_SPIFFE_ID_BYTES - 1) + '\u00e9';
    expect(id.length).toBe(2048);
    expect(Buffer.byteLength(id)).toBe(2049);
    expect(refusal(() => parseSpiffeId(id)).message).toMatch(/longer than 2048 bytes/);
  });

  it('shows a long input shortened in the message', () => {
    const e = refusal(() => parseSpiffeId(idOfBytes(3000)));
    expect(e.message.length).toBeLessThan(200);
    expect(e.message).toContain('...');
  });

  it('refuses non-string input with a CertError rather than a TypeError', () => {
    expect(refusal(() => parseSpiffeId(undefined as unknown as string)).message).toMatch(/it is empty/);
  });
});

describe('trust-domain-only IDs: parseSpiffeId vs parseWorkloadId', () => {
  it('parseSpiffeId accepts a trust domain ID (what a CA certificate carries)', () => {
    expect(parseSpiffeId('spiffe://example.org').path).toBe('');
  });

  it('parseWorkloadId refuses it and names the rule', () => {
    const e = refusal(() => parseWorkloadId('spiffe://example.org'));
    expect(e.code).toBe('spiffe_id_invalid');
    expect(e.message).toMatch(/a workload SPIFFE ID needs a path/);
  });

  it('parseWorkloadId accepts a workload ID and applies every other rule too', () => {
    expect(parseWorkloadId('spiffe://example.org/agent/a')).toEqual({ trustDomain: 'example.org', path: '/agent/a', uri: 'spiffe://example.org/agent/a' });
    expect(refusal(() => parseWorkloadId('spiffe://Example.org/agent/a')).message).toMatch(/upper-case letters/);
    expect(refusal(() => parseWorkloadId('spiffe://example.org/agent/')).message).toMatch(/must not end with "\/"/);
  });
});

describe('parseTrustDomain', () => {
  it.each([
    ['example.org', 'example.org'],
    ['tollgate.local', 'tollgate.local'],
  ])('accepts %s', (input, out) => {
    expect(parseTrustDomain(input)).toBe(out);
  });

  it.each([
    ['', /the trust domain is missing/],
    ['example.org/agent', /a trust domain has no path/],
    ['spiffe://example.org', /a trust domain is a bare name like example\.org, without a scheme/],
    ['example.org:8443', /a port is not allowed/],
    ['exa mple.org', /the trust domain has the character " "/],
    ['Example.ORG', /the trust domain "Example\.ORG" has upper-case letters/],
    [longTd(256), /longer than 255 bytes/],
  ])('refuses %j', (input, rule) => {
    const e = refusal(() => parseTrustDomain(input));
    expect(e.code).toBe('spiffe_id_invalid');
    expect(e.message).toMatch(rule);
  });
});

describe('canonicalSpiffeId and shortName', () => {
  it('returns a canonical ID as it is and refuses one that is not canonical', () => {
    expect(canonicalSpiffeId('spiffe://example.org/Agent/Writer')).toBe('spiffe://example.org/Agent/Writer');
    expect(() => canonicalSpiffeId('SPIFFE://Example.Org/Agent/Writer')).toThrow(/upper-case|lower case/);
    expect(() => canonicalSpiffeId('spiffe://example.org/a/')).toThrow(CertError);
  });

  it('shortName is the last path segment', () => {
    expect(shortName('spiffe://example.org/agent/writer')).toBe('writer');
    expect(shortName('spiffe://example.org/writer')).toBe('writer');
    expect(shortName('writer')).toBe('writer');
    expect(shortName('spiffe://example.org/')).toBe('spiffe://example.org/');
  });
});
