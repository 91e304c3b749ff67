import { describe, expect, it } from 'vitest';
import { createEventBus, eventMatcher, type EventSink, type TollgateEvent } from '../../control/admin/events.js';

const ev = (kind: TollgateEvent['kind'], agent?: string, actor = 'spiffe://td/agent/researcher'): TollgateEvent => ({
  time: 1,
  kind,
  actor,
  agent,
  summary: `${kind} ${agent ?? ''}`,
});

/** A scheduler the test runs by hand: nothing is delivered until flush(). */
function manual() {
  const queue: (() => void)[] = [];
  return {
    schedule: (fn: () => void) => void queue.push(fn),
    flush() {
      while (queue.length) queue.shift()!();
    },
    get pending() {
      return queue.length;
    },
  };
}

function sink(accept = () => true) {
  const got: TollgateEvent[] = [];
  const dropped: string[] = [];
  let ended = false;
  const s: EventSink = {
    write: (e) => {
      got.push(e);
      return accept();
    },
    dropped: (r) => void dropped.push(r),
    end: () => void (ended = true),
  };
  return { s, got, dropped, ended: () => ended };
}

describe('event filters', () => {
  it('matches kinds, agent names, actor IDs and the actor short name', () => {
    expect(eventMatcher({})(ev('call', 'writer'))).toBe(true);
    expect(eventMatcher({ kinds: ['config'] })(ev('call', 'writer'))).toBe(false);
    expect(eventMatcher({ agents: ['writer'] })(ev('call', 'writer'))).toBe(true);
    expect(eventMatcher({ agents: ['writer'] })(ev('call', 'orchestrator'))).toBe(false);
    expect(eventMatcher({ agents: ['researcher'] })(ev('call', 'writer'))).toBe(true); // the caller
    expect(eventMatcher({ agents: ['spiffe://td/agent/researcher'] })(ev('refusal'))).toBe(true);
    expect(eventMatcher({ agents: ['writer'], kinds: ['refusal'] })(ev('call', 'writer'))).toBe(false);
  });
});

describe('event bus', () => {
  it('delivers matching events later, in order, never inside publish', () => {
    const m = manual();
    const bus = createEventBus({ schedule: m.schedule });
    const a = sink();
    const b = sink();
    bus.subscribe({ kinds: ['config'] }, a.s);
    bus.subscribe({}, b.s);
    bus.publish(ev('config', 'x'));
    bus.publish(ev('call', 'y'));
    bus.publish(ev('config', 'z'));
    expect(a.got).toHaveLength(0);
    m.flush();
    expect(a.got.map((e) => e.agent)).toEqual(['x', 'z']);
    expect(b.got.map((e) => e.agent)).toEqual(['x', 'y', 'z']);
  });

  it('pauses a backed-up consumer and resumes on drain', () => {
    const m = manual();
    const bus = createEventBus({ schedule: m.schedule });
    let open = false;
    const c = sink(() => open);
    const sub = bus.subscribe({}, c.s);
    for (let i = 0; i < 5; i++) bus.publish(ev('call', `a${i}`));
    m.flush();
    expect(c.got).toHaveLength(1); // write returned false: paused
    expect(sub.buffered).toBe(4);
    bus.publish(ev('call', 'a5'));
    m.flush();
    expect(c.got).toHaveLength(1); // still paused: nothing scheduled
    open = true;
    sub.resume();
    m.flush();
    expect(c.got.map((e) => e.agent)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect(sub.buffered).toBe(0);
  });

  it('drops a subscriber that falls behind its bound, without affecting others', () => {
    const m = manual();
    const bus = createEventBus({ schedule: m.schedule });
    const slow = sink(() => false);
    const fast = sink();
    bus.subscribe({}, slow.s, { maxBuffered: 3 });
    bus.subscribe({}, fast.s, { maxBuffered: 100 });
    for (let i = 0; i < 10; i++) {
      bus.publish(ev('call', `e${i}`));
      m.flush();
    }
    expect(slow.dropped).toHaveLength(1);
    expect(slow.dropped[0]).toContain('fell more than 3 events behind');
    expect(slow.got).toHaveLength(1);
    expect(fast.got).toHaveLength(10);
    expect(bus.subscribers).toBe(1);
  });

  it('drops a sink that throws', () => {
    const m = manual();
    const bus = createEventBus({ schedule: m.schedule });
    const bad = sink(() => {
      throw new Error('boom');
    });
    bus.subscribe({}, bad.s);
    bus.publish(ev('call'));
    m.flush();
    expect(bad.dropped).toEqual(['the watcher failed to accept an event']);
    expect(bus.subscribers).toBe(0);
  });

  it('publishes nothing and schedules nothing without subscribers; close ends everyone', () => {
    const m = manual();
    const bus = createEventBus({ schedule: m.schedule });
    bus.publish(ev('call'));
    expect(m.pending).toBe(0);
    const a = sink();
    const sub = bus.subscribe({}, a.s);
    bus.close();
    expect(a.ended()).toBe(true);
    expect(sub.closed).toBe(true);
    expect(bus.subscribers).toBe(0);
    const late = sink();
    bus.subscribe({}, late.s);
    expect(late.ended()).toBe(true);
  });

  it('stops delivering after close() even with events queued', () => {
    const m = manual();
    const bus = createEventBus({ schedule: m.schedule });
    const a = sink();
    const sub = bus.subscribe({}, a.s);
    bus.publish(ev('call'));
    sub.close();
    m.flush();
    expect(a.got).toHaveLength(0);
  });
});
