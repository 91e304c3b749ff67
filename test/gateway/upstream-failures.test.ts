import { describe, expect, it } from 'vitest';
import { UpstreamFailureLog, type UpstreamFailure } from '../../gateway/upstream-failures.js';

const failure = (over: Partial<UpstreamFailure> = {}): UpstreamFailure => ({
  caller: 'spiffe://td/user/alice',
  callee: 'writer',
  calleeId: 'spiffe://td/agent/writer',
  method: 'SendMessage',
  status: 502,
  kind: 'refused',
  rootTaskId: 'T1',
  callId: 'c1',
  ...over,
});

describe('upstream failure log lines', () => {
  it('the first at once with identities and ids; then at most one per interval per callee and kind, counting the rest', () => {
    let t = 0;
    const lines: [Record<string, unknown>, string][] = [];
    const log = new UpstreamFailureLog({ warn: (o, m) => lines.push([o as Record<string, unknown>, m]) }, () => t, 10_000);
    expect(log.failed(failure())).toBe(true);
    expect(lines[0][0]).toEqual({
      caller: 'spiffe://td/user/alice',
      callee: 'writer',
      calleeId: 'spiffe://td/agent/writer',
      method: 'SendMessage',
      status: 502,
      upstreamError: 'refused',
      rootTaskId: 'T1',
      callId: 'c1',
    });
    expect(lines[0][1]).toBe('upstream failure: spiffe://td/user/alice -> writer SendMessage answered 502 (refused)');
    t = 5_000;
    for (let i = 0; i < 3; i++) expect(log.failed(failure())).toBe(false);
    // another kind, or another callee, has its own allowance
    expect(log.failed(failure({ kind: 'timeout', status: 504 }))).toBe(true);
    expect(log.failed(failure({ callee: 'researcher' }))).toBe(true);
    t = 10_000;
    expect(log.failed(failure({ rootTaskId: 'T9', callId: 'c9' }))).toBe(true);
    expect(lines.at(-1)![0]).toMatchObject({ rootTaskId: 'T9', callId: 'c9', suppressed: 3 });
    expect(lines.at(-1)![1]).toContain('; 3 more like it not logged');
    expect(lines).toHaveLength(4);
  });
});
