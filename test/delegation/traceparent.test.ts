import { describe, expect, it } from 'vitest';
import { nextTraceparent, parseTraceparent } from '../../governance/delegation/traceparent.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent', () => {
  it('parses a valid header and rejects invalid ones', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: '01' });
    for (const bad of [
      undefined,
      '',
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero span id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // forbidden version
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
      `${VALID}-extra`, // version 00 has exactly four fields
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
    // a later version may carry more fields
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future')?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('continues an inbound trace with a new span id and the same flags', () => {
    const { header, traceId } = nextTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
    expect(traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const p = parseTraceparent(header)!;
    expect(p.traceId).toBe(traceId);
    expect(p.spanId).not.toBe('00f067aa0ba902b7');
    expect(p.flags).toBe('00');
  });

  it('starts a trace (sampled) without a valid inbound header, with the given or a random id', () => {
    expect(nextTraceparent(undefined, 'aa'.repeat(16)).header).toMatch(/^00-a{32}-[0-9a-f]{16}-01$/);
    const a = nextTraceparent('bogus');
    const b = nextTraceparent(undefined);
    expect(parseTraceparent(a.header)).toBeDefined();
    expect(a.traceId).not.toBe(b.traceId);
  });
});
